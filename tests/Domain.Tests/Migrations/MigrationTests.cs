using Ferry.Domain.Migrations;

namespace Ferry.Domain.Tests.Migrations;

public sealed class MigrationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid Source = Guid.NewGuid();
    private static readonly Guid Target = Guid.NewGuid();

    private static Migration NewMigration(MigrationPolicy? policy = null) =>
        Migration.Request(Guid.NewGuid(), "vnf-1", Source, "host-a", null, policy ?? MigrationPolicy.Default, T0);

    private static Migration RunTo(MigrationState state)
    {
        var m = NewMigration();
        var t = T0;
        m.Schedule(Target, "host-b", t = t.AddMilliseconds(1));
        foreach (var next in new[] { MigrationState.PreparingTarget, MigrationState.TargetReady, MigrationState.Running, MigrationState.SwitchingOver, MigrationState.CleaningUp })
        {
            if (m.State == state)
            {
                break;
            }

            m.Advance(next, t = t.AddMilliseconds(1));
        }

        Assert.Equal(state, m.State);
        return m;
    }

    [Fact]
    public void A_request_starts_queued_with_one_timeline_entry()
    {
        var m = NewMigration();
        Assert.Equal(MigrationState.Queued, m.State);
        Assert.Equal([new TimelineEntry(MigrationState.Queued, T0)], m.Timeline);
        Assert.Null(m.Result);
        Assert.Null(m.TargetHostId);
    }

    [Fact]
    public void The_switch_overs_moments_join_the_timeline_in_time_order_without_being_phases()
    {
        var m = RunTo(MigrationState.CleaningUp);
        var paused = T0.AddMilliseconds(4.2);
        var parts = new SwitchoverParts { PausedAt = paused, RunningAt = paused.AddMilliseconds(3), PortsUpAt = paused.AddMilliseconds(5), PortsUpMs = 2 };

        m.Complete(new MigrationResult { TotalTimeMs = 400, DowntimeMs = 3, Switchover = parts }, T0.AddSeconds(1));

        Assert.Equal(["guestPaused", "targetRunning", "portsUp"], m.Timeline.Where(e => e.Event is not null).Select(e => e.Event));
        Assert.True(m.Timeline.Zip(m.Timeline.Skip(1)).All(p => p.First.At <= p.Second.At));
        Assert.Equal(MigrationState.Completed, m.Timeline[^1].State);
        Assert.Equal(T0.AddSeconds(1), m.EnteredCurrentStateAt);
        Assert.Contains("3 ms after its pause", m.Timeline.Single(e => e.Event == "targetRunning").Note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_to_move_a_guest_onto_its_own_host_is_refused() =>
        Assert.Throws<DomainException>(() =>
            Migration.Request(Guid.NewGuid(), "vnf-1", Source, "host-a", (Source, "host-a"), MigrationPolicy.Default, T0));

    [Fact]
    public void Every_phase_is_on_the_timeline_in_order_with_its_time()
    {
        var m = RunTo(MigrationState.CleaningUp);
        m.Complete(new MigrationResult { TotalTimeMs = 400, DowntimeMs = 5 }, T0.AddSeconds(1));
        Assert.Equal(
            [MigrationState.Queued, MigrationState.Scheduled, MigrationState.PreparingTarget, MigrationState.TargetReady,
             MigrationState.Running, MigrationState.SwitchingOver, MigrationState.CleaningUp, MigrationState.Completed],
            m.Timeline.Select(e => e.State));
        Assert.True(m.Timeline.Zip(m.Timeline.Skip(1)).All(p => p.First.At <= p.Second.At));
    }

    [Fact]
    public void Completing_records_the_operation_time_from_the_request_and_the_sla_verdict()
    {
        var m = RunTo(MigrationState.CleaningUp);
        m.Complete(new MigrationResult { TotalTimeMs = 400, DowntimeMs = 5 }, T0.AddMilliseconds(1500));
        Assert.Equal(1500, m.Result!.OperationTimeMs);
        Assert.True(m.SlaMet);
        Assert.True(m.GuestOnTarget);
    }

    [Fact]
    public void An_illegal_move_is_refused_and_changes_nothing()
    {
        var m = NewMigration();
        Assert.Throws<DomainException>(() => m.Advance(MigrationState.Running, T0));
        Assert.Throws<DomainException>(() => m.Complete(new MigrationResult(), T0));
        Assert.Equal(MigrationState.Queued, m.State);
        Assert.Single(m.Timeline);
    }

    [Fact]
    public void Cancel_before_any_agent_is_involved_is_immediate()
    {
        var m = NewMigration();
        Assert.Equal(CancelOutcome.Cancelled, m.Cancel(T0.AddSeconds(1)));
        Assert.Equal(MigrationState.Cancelled, m.State);
        Assert.False(m.GuestOnTarget);
    }

    [Fact]
    public void Cancel_while_running_waits_for_the_agents()
    {
        var m = RunTo(MigrationState.Running);
        Assert.Equal(CancelOutcome.Cancelling, m.Cancel(T0.AddSeconds(1)));
        Assert.Equal(MigrationState.Cancelling, m.State);
        m.ConfirmCancelled(T0.AddSeconds(2));
        Assert.Equal(MigrationState.Cancelled, m.State);
    }

    [Fact]
    public void Cancel_after_switchover_is_too_late_and_changes_nothing()
    {
        var m = RunTo(MigrationState.SwitchingOver);
        Assert.Equal(CancelOutcome.TooLate, m.Cancel(T0.AddSeconds(1)));
        Assert.Equal(MigrationState.SwitchingOver, m.State);
    }

    [Fact]
    public void Cancel_twice_or_after_the_end_is_a_no_op()
    {
        var m = NewMigration();
        m.Cancel(T0);
        var entries = m.Timeline.Count;
        Assert.Equal(CancelOutcome.AlreadyEnded, m.Cancel(T0.AddSeconds(1)));
        Assert.Equal(entries, m.Timeline.Count);
    }

    [Fact]
    public void A_failure_before_switchover_leaves_the_guest_on_the_source()
    {
        var m = RunTo(MigrationState.Running);
        m.Fail("destination unreachable", T0.AddSeconds(1));
        Assert.Equal(MigrationState.Failed, m.State);
        Assert.False(m.GuestOnTarget);
        Assert.Equal("destination unreachable", m.FailureReason);
        Assert.Equal("destination unreachable", m.Timeline[^1].Note);
    }

    [Fact]
    public void A_failure_after_switchover_records_the_guest_on_the_target()
    {
        var m = RunTo(MigrationState.CleaningUp);
        m.Fail("source cleanup failed", T0.AddSeconds(1));
        Assert.True(m.GuestOnTarget);
    }

    [Fact]
    public void A_switch_over_that_failed_before_the_target_took_the_guest_records_it_on_the_source_when_the_agent_says_so()
    {
        var m = RunTo(MigrationState.SwitchingOver);
        Assert.True(m.GuestOnTarget);

        m.Fail("the destination closed the stream before acknowledging the final pass", T0.AddSeconds(1), guestOnTarget: false);

        Assert.Equal(MigrationState.Failed, m.State);
        Assert.False(m.GuestOnTarget);
    }

    [Fact]
    public void A_failure_reason_longer_than_the_store_holds_is_kept_truncated_with_a_marker()
    {
        var m = RunTo(MigrationState.Running);
        var qemuLastWords = "qemu-system-x86_64: " + new string('x', 3 * ReasonText.MaxLength);

        m.Fail(qemuLastWords, T0.AddSeconds(1));

        Assert.Equal(ReasonText.MaxLength, m.FailureReason!.Length);
        Assert.StartsWith("qemu-system-x86_64: xxx", m.FailureReason, StringComparison.Ordinal);
        Assert.EndsWith($"[truncated: {qemuLastWords.Length} characters in all]", m.FailureReason, StringComparison.Ordinal);
        Assert.Equal(m.FailureReason, m.Timeline[^1].Note);
    }

    [Fact]
    public void An_abort_reason_and_a_note_are_bounded_like_a_failure_reason()
    {
        var m = RunTo(MigrationState.Running);

        m.Abort(new string('r', 10_000), T0.AddSeconds(1));

        Assert.Equal(ReasonText.MaxLength, m.AbortReason!.Length);
        Assert.Equal(ReasonText.MaxLength, m.Timeline[^1].Note!.Length);
    }

    [Fact]
    public void A_migration_past_the_pause_whose_result_was_lost_completes_on_the_target_without_a_verdict()
    {
        var m = RunTo(MigrationState.SwitchingOver);

        m.CompleteUnmeasured("the target's agent says the guest runs there; the source's result was lost", T0.AddSeconds(1));

        Assert.Equal(MigrationState.Completed, m.State);
        Assert.True(m.GuestOnTarget);
        Assert.Null(m.Result);
        Assert.Null(m.SlaMet);
        Assert.Equal([MigrationState.CleaningUp, MigrationState.Completed], m.Timeline.TakeLast(2).Select(e => e.State));
    }

    [Fact]
    public void A_migration_before_the_pause_never_completes_without_its_result()
    {
        var m = RunTo(MigrationState.Running);

        Assert.Throws<DomainException>(() => m.CompleteUnmeasured("guessing", T0.AddSeconds(1)));
        Assert.Equal(MigrationState.Running, m.State);
    }

    [Fact]
    public void An_abort_tears_down_like_a_cancel_but_ends_failed_with_its_reason()
    {
        var m = RunTo(MigrationState.Running);
        Assert.True(m.Abort("completion timeout", T0.AddSeconds(1)));
        Assert.Equal(MigrationState.Cancelling, m.State);
        m.ConfirmCancelled(T0.AddSeconds(2));
        Assert.Equal(MigrationState.Failed, m.State);
        Assert.Equal("completion timeout", m.FailureReason);
    }

    [Fact]
    public void An_abort_before_any_agent_is_involved_fails_at_once()
    {
        var m = NewMigration();
        Assert.True(m.Abort("queue timeout", T0));
        Assert.Equal(MigrationState.Failed, m.State);
    }

    [Fact]
    public void An_abort_after_switchover_is_refused()
    {
        var m = RunTo(MigrationState.SwitchingOver);
        Assert.False(m.Abort("late", T0));
        Assert.Equal(MigrationState.SwitchingOver, m.State);
    }

    [Fact]
    public void Scheduling_onto_the_source_host_is_refused()
    {
        var m = NewMigration();
        Assert.Throws<DomainException>(() => m.Schedule(Source, "host-a", T0));
        Assert.Equal(MigrationState.Queued, m.State);
    }
}
