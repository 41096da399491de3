using Ferry.Agent.Qmp;
using Ferry.Transfer.Migration;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// The source QEMU as the engine drives it. Pausing stops the vCPUs (and with them the vhost-user
/// rings) and captures the device state once, the one state sync of the switch-over; resuming is
/// only for a migration that failed before the destination acknowledged every page.
/// </summary>
internal sealed class QemuGuestControl(
    IQmpClient qmp,
    bool alreadyPaused,
    Action paused,
    Func<CancellationToken, Task> stopSource,
    TimeProvider timeProvider) : IGuestControl
{
    /// <summary>True once the engine paused the guest for switch-over.</summary>
    public bool SwitchingOver { get; private set; }

    /// <summary>When the pause was asked for, on this host's clock.</summary>
    public DateTimeOffset? PausedAt { get; private set; }

    /// <summary>From asking for the device state to QEMU stopping the guest (the guest still ran), and from there to the state's end.</summary>
    public (TimeSpan Lead, TimeSpan Capture)? PauseSteps { get; private set; }

    public TimeSpan PauseLead => PauseSteps?.Lead ?? TimeSpan.Zero;

    /// <summary>
    /// QEMU pauses the guest itself: its migration (x-ignore-shared, so no RAM) runs its setup while the
    /// guest still runs (dirty-log setup in QEMU and the vhost-user backends included), then stops the
    /// guest, saves the devices and completes. Stopping first and migrating after would put that setup
    /// inside the downtime (7–34 ms of it measured here). The STOP event says when the guest stopped.
    /// </summary>
    public async Task<ReadOnlyMemory<byte>> PauseAsync(CancellationToken cancellationToken)
    {
        SwitchingOver = true;
        var asked = timeProvider.GetUtcNow();
        var started = timeProvider.GetTimestamp();
        using var events = qmp.SubscribeEvents();
        if (alreadyPaused)
        {
            PausedAt = asked;
        }

        var state = await QemuDeviceState.CaptureAsync(qmp, timeProvider, cancellationToken);
        var done = timeProvider.GetElapsedTime(started);
        while (PausedAt is null && events.Reader.TryRead(out var e))
        {
            PausedAt = e.Name == QmpEvent.Stop ? e.Timestamp : null;
        }

        // The device state is saved with the guest stopped: when QEMU's event went missing, the end is a safe bound.
        PausedAt ??= timeProvider.GetUtcNow();
        var lead = alreadyPaused ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Clamp((PausedAt.Value - asked).Ticks, 0, done.Ticks));
        PauseSteps = (lead, done - lead);
        paused();
        return state;
    }

    /// <summary>Never throws: the engine calls it on its failure path; the caller checks the source's state after.</summary>
    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        try
        {
            // cont also takes a QEMU out of postmigrate (its device state went out, the engine failed after).
            if (!(await qmp.QueryStatusAsync(cancellationToken)).Running)
            {
                await qmp.ContAsync(cancellationToken);
            }
        }
        catch (QmpException)
        {
        }
    }

    /// <summary>The deferred cleanup; the guest runs at the target, so a failure here is not the migration's.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await stopSource(cancellationToken);
        }
        catch (QmpException)
        {
        }
    }
}
