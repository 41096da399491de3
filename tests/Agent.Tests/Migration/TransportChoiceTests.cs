using Ferry.Agent.Migration;
using Ferry.Agent.Migration.Transports.Native;
using Ferry.Domain.Migrations;
using Ferry.Transfer.Dirty;

namespace Ferry.Agent.Tests.Migration;

[Trait("Tier", "fast")]
public sealed class TransportChoiceTests
{
    private static readonly TrackerVerdict Tracked = new(true, "soft-dirty covers every process that maps the guest's RAM: qemu-system-x86 (pid 1)", [1]);
    private static readonly TrackerVerdict Untracked = TrackerVerdict.Unavailable("no dirty tracker covers QEMU guests on this kernel");

    [Fact]
    public void Auto_uses_qemu_when_no_tracker_covers_the_guest_and_says_why()
    {
        var choice = TransportChoice.ForGuest(TransportKind.Auto, Untracked, engineMissing: null);

        Assert.Equal(TransportKind.Qemu, choice.Kind);
        Assert.Equal("auto: qemu, because no dirty tracker covers QEMU guests on this kernel", choice.Reason);
    }

    [Fact]
    public void Auto_uses_native_live_when_a_tracker_covers_the_guest_and_the_target_has_the_engine()
    {
        var choice = TransportChoice.ForGuest(TransportKind.Auto, Tracked, engineMissing: null);

        Assert.Equal(TransportKind.Native, choice.Kind);
        Assert.False(choice.PausedCopy);
        Assert.StartsWith("auto: native, because soft-dirty covers", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_uses_qemu_when_the_target_prepared_no_engine_even_with_a_tracker()
    {
        var choice = TransportChoice.ForGuest(TransportKind.Auto, Tracked, engineMissing: "the target prepared no page-transfer engine");

        Assert.Equal(TransportKind.Qemu, choice.Kind);
        Assert.Equal("auto: qemu, because the target prepared no page-transfer engine", choice.Reason);
    }

    [Fact]
    public void Native_without_a_tracker_runs_as_a_paused_copy_and_the_reason_says_the_guest_is_paused_for_the_copy()
    {
        var choice = TransportChoice.ForGuest(TransportKind.Native, Untracked, engineMissing: null);

        Assert.Equal(TransportKind.Native, choice.Kind);
        Assert.True(choice.PausedCopy);
        Assert.Contains("paused for the whole RAM copy", choice.Reason, StringComparison.Ordinal);
        Assert.Contains("no dirty tracker covers QEMU guests", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Native_with_a_tracker_runs_live()
    {
        var choice = TransportChoice.ForGuest(TransportKind.Native, Tracked, engineMissing: null);

        Assert.Equal(TransportKind.Native, choice.Kind);
        Assert.False(choice.PausedCopy);
        Assert.Contains("live passes", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Qemu_stays_qemu_whatever_the_tracker() =>
        Assert.Equal(TransportKind.Qemu, TransportChoice.ForGuest(TransportKind.Qemu, Tracked, engineMissing: null).Kind);

    [Fact]
    public void A_target_without_a_tracker_prepares_only_qemu_for_auto()
    {
        var choice = TransportChoice.ForTarget(TransportKind.Auto, Untracked);

        Assert.Equal(TransportKind.Qemu, choice.Kind);
        Assert.Equal("auto: qemu, because no dirty tracker covers QEMU guests on this kernel", choice.Reason);
    }

    [Fact]
    public void A_target_with_a_tracker_prepares_both_for_auto_and_lets_the_source_pick() =>
        Assert.Equal(TransportKind.Auto, TransportChoice.ForTarget(TransportKind.Auto, Tracked).Kind);

    [Fact]
    public void The_host_probe_here_tells_which_tracker_it_would_use_or_why_none()
    {
        using var userfaultfds = new UserfaultfdRegistry();
        var verdict = new QemuGuestTracking(userfaultfds, ovs: null).ForHost();

        Assert.False(string.IsNullOrWhiteSpace(verdict.Reason));
        Assert.Equal(verdict.Available, verdict.Kind is not null);
        if (!verdict.Available)
        {
            Assert.StartsWith("no dirty tracker covers QEMU guests on this host: ", verdict.Reason, StringComparison.Ordinal);
        }

        TestContext.Current.SendDiagnosticMessage($"host tracker: {verdict.Available} ({verdict.Kind}): {verdict.Reason}");
    }
}
