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

    public async Task<ReadOnlyMemory<byte>> PauseAsync(CancellationToken cancellationToken)
    {
        SwitchingOver = true;
        PausedAt = timeProvider.GetUtcNow();
        try
        {
            if (!alreadyPaused)
            {
                await qmp.StopAsync(cancellationToken);
            }
        }
        catch (QmpException ex)
        {
            throw new IOException($"Pausing the source QEMU failed: {ex.Message}", ex);
        }

        paused();
        return await QemuDeviceState.CaptureAsync(qmp, timeProvider, cancellationToken);
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
