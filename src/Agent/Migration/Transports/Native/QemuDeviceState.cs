using Ferry.Agent.Qmp;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// QEMU's device state without its RAM (the engine moves the RAM), through QEMU's device-state commands:
/// the paused source writes every device's state to a file on tmpfs (about 200 KB for a guest with two
/// NICs), the engine carries the bytes with the final pass, and the target, waiting with
/// <c>-incoming</c>, loads them from a file of its own. One QMP command at each end: no migration
/// thread, no dirty-log setup in QEMU and its vhost-user backends (what capturing through a
/// <c>migrate</c> with <c>x-ignore-shared</c> cost: 7–12 ms of the downtime here), no capability left
/// behind on a QEMU that may later migrate with its own loop.
/// </summary>
internal static class QemuDeviceState
{
    private static readonly TimeSpan SettleBudget = TimeSpan.FromSeconds(10);

    /// <summary>Saves the paused source's device state and returns it; the guest stays paused.</summary>
    public static async Task<byte[]> CaptureAsync(IQmpClient source, string stateFile, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(SettleBudget);
        try
        {
            File.Delete(stateFile);
            await source.SaveDevicesStateAsync(stateFile, budget.Token);
            return await File.ReadAllBytesAsync(stateFile, budget.Token);
        }
        catch (QmpException ex)
        {
            throw new IOException($"Capturing the device state failed: {ex.Message}", ex);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"QEMU did not hand over its device state within {SettleBudget.TotalSeconds} s.");
        }
        finally
        {
            File.Delete(stateFile);
        }
    }

    /// <summary>
    /// Loads a captured device state into a target waiting with <c>-incoming</c> whose RAM file holds every
    /// page. The source was paused when it was captured, so the guest stays paused; the caller resumes it.
    /// </summary>
    public static async Task LoadAsync(IQmpClient target, string stateFile, ReadOnlyMemory<byte> state, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(SettleBudget);
        try
        {
            if (!OperatingSystem.IsLinux())
            {
                throw new PlatformNotSupportedException("QEMU guests run on Linux hosts only.");
            }

            // The guest's device state is the agent's and QEMU's alone.
            await using (var file = new FileStream(stateFile, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            {
                await file.WriteAsync(state, budget.Token);
            }

            await target.LoadDevicesStateAsync(stateFile, budget.Token);
        }
        catch (QmpException ex)
        {
            throw new IOException($"The target QEMU refused the device state: {ex.Message}", ex);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"The target QEMU did not load the device state within {SettleBudget.TotalSeconds} s.");
        }
        finally
        {
            File.Delete(stateFile);
        }
    }
}
