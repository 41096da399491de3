using Ferry.Agent.Qmp;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// QEMU's device state without its RAM (the engine moves the RAM). The paused source writes every
/// device's state to a file on tmpfs with QEMU's device-state command (one QMP command: no migration
/// thread and no dirty-log setup in QEMU and its vhost-user backends, which capturing through a
/// <c>migrate</c> with <c>x-ignore-shared</c> cost inside the downtime: 7–34 ms measured here; and no
/// capability left on a QEMU that may later migrate with its own loop). The engine carries the bytes with
/// the final pass, and the target, waiting with <c>-incoming</c>, takes them as a migration stream and
/// resumes by itself. (Its counterpart for loading, xen-load-devices-state, leaves QEMU 7.2 in
/// <c>inmigrate</c>, and without a pending incoming migration aborts it on an assertion.)
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
    /// Plays a captured device state into a target waiting with <c>-incoming</c>, listening at
    /// <paramref name="listen"/> (on loopback, or the qemu transport's port when both were prepared), whose
    /// RAM file holds every page. The file QEMU saved is a migration stream with device sections only
    /// (<see cref="Ferry.Agent.Qemu.QemuCommandLine"/> turns the configuration and description sections off at both
    /// ends), and its global state says the guest was running: QEMU loads it, resumes the guest by itself
    /// and announces it, as after a migration of its own. Returns once QEMU says the guest runs.
    /// </summary>
    public static async Task LoadAsync(IQmpClient target, MigrationUri listen, ReadOnlyMemory<byte> state, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(SettleBudget);
        try
        {
            using var events = target.SubscribeEvents();

            // A target prepared for QEMU's own loop too may wait for multifd channels that this stream does not bring.
            await target.SetMigrationCapabilitiesAsync([new MigrationCapability(MigrationCapability.Multifd, false)], budget.Token);
            using (var client = new System.Net.Sockets.TcpClient(listen.Endpoint.AddressFamily) { NoDelay = true })
            {
                await client.ConnectAsync(listen.Endpoint, budget.Token);
                await client.GetStream().WriteAsync(state, budget.Token);
                client.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            }

            while (true)
            {
                while (events.Reader.TryRead(out var e))
                {
                    if (e.Name == QmpEvent.Resume)
                    {
                        return;
                    }

                    if (e.Name == QmpEvent.Migration && e.Data.TryGetProperty("status"u8, out var status) && status.GetString() is "failed" or "cancelled")
                    {
                        var info = await target.QueryMigrateAsync(budget.Token);
                        throw new IOException($"The target QEMU refused the device state: {info.Status} {info.ErrorDescription}");
                    }
                }

                await events.Reader.WaitToReadAsync(budget.Token);
            }
        }
        catch (QmpException ex)
        {
            throw new IOException($"Loading the device state into the target QEMU failed: {ex.Message}", ex);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"The target QEMU did not load the device state and resume within {SettleBudget.TotalSeconds} s.");
        }
    }
}
