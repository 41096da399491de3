using Ferry.Transfer.Dirty;
using Ferry.Transfer.Guest;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Tests.Dirty;
using Ferry.Transfer.Tests.Support;

namespace Ferry.Transfer.Tests.Guest;

/// <summary>The control word's pause, resume and start, with the workload guest at its other end.</summary>
public sealed class GuestControlWordTests
{
    [Theory]
    [InlineData("l2fwd")]
    [InlineData("sweep")]
    [InlineData("random")]
    [InlineData("idle")]
    public void Nothing_is_written_after_the_guest_acknowledged_a_pause_in_its_control_word(string profile)
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("paused-word", 64L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, profile, "--dirty-rate", "0");
        using var tracker = DirtyTracking.OpenWrittenPageTracker(workload.Pid, memory);
        var dirty = new DirtyPageSet(memory.PageCount);
        Thread.Sleep(50);

        workload.Control.Pause(TimeSpan.FromSeconds(30));
        tracker.Reset();
        byte[] atAcknowledgement;
        unsafe
        {
            atAcknowledgement = new ReadOnlySpan<byte>(memory.Pointer, (int)memory.Size).ToArray();
        }

        Thread.Sleep(100);
        tracker.CollectAndClear(dirty);

        Assert.Equal(GuestRunState.Paused, workload.Control.State);
        Assert.StartsWith("status paused", workload.Command("status"), StringComparison.Ordinal);
        Assert.Equal(0, dirty.Count);
        unsafe
        {
            Assert.True(new ReadOnlySpan<byte>(memory.Pointer, (int)memory.Size).SequenceEqual(atAcknowledgement),
                "the RAM is byte for byte what it was when the pause was acknowledged");
        }
    }

    [Fact]
    public void The_stdin_pause_and_resume_commands_move_the_same_control_word()
    {
        using var memory = GuestMemory.CreateMemfd("stdin", 16L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, "sweep", "--no-track");

        Assert.StartsWith("paused", workload.Command("pause"), StringComparison.Ordinal);
        Assert.Equal(GuestRunState.Paused, workload.Control.State);
        Assert.Equal("resumed", workload.Command("resume"));
        Assert.Contains(workload.Control.State, new[] { GuestRunState.Running, GuestRunState.Quiescent, GuestRunState.PauseRequested });
    }

    [Fact]
    public void An_incoming_workload_started_through_its_control_word_continues_where_the_source_stopped()
    {
        using var source = GuestMemory.CreateMemfd("sweep-source", 16L << 20);
        using var target = GuestMemory.CreateMemfd("sweep-target", 16L << 20);
        using var incoming = WorkloadProcess.Start(target.FilePath, "sweep", "--incoming", "--dirty-rate", "0");
        (ulong Value, long NextPage) stopped;
        using (var workload = WorkloadProcess.Start(source.FilePath, "sweep", "--dirty-rate", "0"))
        {
            Thread.Sleep(50);
            workload.Pause();
            stopped = SweepInvariant.State(source);
        }

        Assert.Equal(GuestRunState.Incoming, incoming.Control.State);
        Assert.Empty(target.GetAllocatedRanges()); // waiting on its word, it has not touched its RAM

        // A start announced but never made (a migration that failed after the announcement) keeps
        // the guest watching for a bounded time only; then it forgets it and sleeps again.
        incoming.Control.AnnounceStart();
        var watching = System.Diagnostics.Stopwatch.StartNew();
        while (incoming.Control.StartAnnounced && watching.Elapsed < TimeSpan.FromSeconds(30))
        {
            Thread.Sleep(10);
        }

        Assert.False(incoming.Control.StartAnnounced, "the incoming guest still watches 30 s after an announcement");
        Assert.Equal(GuestRunState.Incoming, incoming.Control.State);
        unsafe
        {
            new ReadOnlySpan<byte>(source.Pointer, (int)source.Size).CopyTo(new Span<byte>(target.Pointer, (int)target.Size));
        }

        incoming.StartIncoming();
        Assert.Contains(incoming.Control.State, new[] { GuestRunState.Running, GuestRunState.Quiescent });
        Thread.Sleep(50);
        incoming.Pause();

        Assert.Null(SweepInvariant.Violation(target));
        var now = SweepInvariant.State(target);
        Assert.True(now.Value > stopped.Value || now.Value == stopped.Value && now.NextPage > stopped.NextPage,
            $"stopped at {stopped}, now {now}");
    }

    [Fact]
    public void Start_through_the_control_word_refuses_RAM_without_state()
    {
        using var memory = GuestMemory.CreateMemfd("incoming-blank", 16L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, "sweep", "--incoming");

        var error = Assert.Throws<InvalidDataException>(workload.StartIncoming);

        Assert.Contains("no state", error.Message, StringComparison.Ordinal);
        Assert.Equal(GuestRunState.StartRefused, workload.Control.State);
        Assert.Throws<InvalidOperationException>(() => workload.Control.Pause(TimeSpan.FromSeconds(1)));
    }
}
