using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Ferry.Agent.Qmp;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// QEMU's device state without its RAM: with <c>x-ignore-shared</c> QEMU skips RAM blocks that are
/// shared files (the engine moves those) and its migration stream carries only the devices, a few
/// hundred kilobytes. The source side captures that stream into memory over loopback; the target
/// side plays it into a QEMU waiting with <c>-incoming</c>.
/// </summary>
internal static class QemuDeviceState
{
    private static readonly TimeSpan SettleBudget = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Capabilities for a device-state-only stream; the same at both ends or QEMU misreads it. The ones
    /// the qemu transport sets are turned off explicitly: a guest that arrived by it keeps them, and
    /// <c>pause-before-switchover</c> would hold the capture in <c>pre-switchover</c>.
    /// </summary>
    public static IReadOnlyList<MigrationCapability> Capabilities(bool ignoreShared) =>
    [
        new(MigrationCapability.Events, true),
        new(MigrationCapability.Multifd, false),
        new(MigrationCapability.AutoConverge, false),
        new(MigrationCapability.PauseBeforeSwitchover, false),
        new(MigrationCapability.IgnoreShared, ignoreShared),
    ];

    /// <summary>
    /// Configures either end for a device-state-only stream ahead of time, so the switch-over spends no
    /// QMP round trip on it. The source must be reset with <see cref="ResetAsync"/> if it stays the guest.
    /// </summary>
    public static async Task ConfigureAsync(IQmpClient qemu, CancellationToken cancellationToken)
    {
        try
        {
            await qemu.SetMigrationCapabilitiesAsync(Capabilities(ignoreShared: true), cancellationToken);

            // QEMU 7.2 throttles to 128 MiB/s by default; the stream is small, but not worth a wait. The stream runs
            // over loopback between this agent and its QEMU, in plain TCP: a guest that arrived over the qemu
            // transport's TLS keeps tls-creds set, and would try TLS on the capture's plain listener.
            await qemu.SetMigrationParametersAsync(
                new MigrationParameters { MaxBandwidthBytesPerSecond = MigrationSettings.Unlimited, TlsCreds = string.Empty, TlsHostname = string.Empty },
                cancellationToken);
        }
        catch (QmpException ex)
        {
            throw new IOException($"Configuring QEMU for a device-state-only migration failed: {ex.Message}", ex);
        }
    }

    /// <summary>Migrates the paused source's device state into a buffer; the source was configured by <see cref="ConfigureAsync"/>.</summary>
    public static async Task<byte[]> CaptureAsync(IQmpClient source, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1);
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(SettleBudget);
        try
        {
            await source.MigrateAsync(MigrationUri.Tcp(IPAddress.Loopback, port), budget.Token);
            using var connection = await listener.AcceptTcpClientAsync(budget.Token);
            listener.Stop();
            using var buffer = new MemoryStream(512 * 1024);
            await connection.GetStream().CopyToAsync(buffer, budget.Token);
            var info = await source.QueryMigrateAsync(budget.Token);
            while (!info.State.IsFinal())
            {
                await Task.Delay(TimeSpan.FromMilliseconds(1), timeProvider, budget.Token);
                info = await source.QueryMigrateAsync(budget.Token);
            }

            return info.State == QmpMigrationStatus.Completed
                ? buffer.ToArray()
                : throw new IOException($"QEMU did not hand over its device state: {info.Status} {info.ErrorDescription}");
        }
        catch (QmpException ex)
        {
            throw new IOException($"Capturing the device state failed: {ex.Message}", ex);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"QEMU did not hand over its device state within {SettleBudget.TotalSeconds} s.");
        }
    }

    /// <summary>
    /// Plays a captured device state into a target listening at <paramref name="listen"/> (on loopback,
    /// or the qemu transport's port when both were prepared) and waits until QEMU loaded it. The source
    /// was paused when it was captured, so QEMU leaves the guest paused; the caller resumes it. A target
    /// prepared for the qemu transport's TLS takes the stream only over TLS (<paramref name="tls"/>), with
    /// this host's own certificate.
    /// </summary>
    public static async Task LoadAsync(IQmpClient target, MigrationUri listen, ReadOnlyMemory<byte> state, bool configured, SslClientAuthenticationOptions? tls, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(SettleBudget);
        try
        {
            using var events = target.SubscribeEvents();
            if (!configured)
            {
                // Both transports were prepared, so QEMU waited set up for the qemu one until now.
                await target.SetMigrationCapabilitiesAsync(Capabilities(ignoreShared: true), budget.Token);
            }

            using (var client = new TcpClient(listen.Endpoint.AddressFamily) { NoDelay = true })
            {
                await client.ConnectAsync(listen.Endpoint, budget.Token);
                if (tls is null)
                {
                    await client.GetStream().WriteAsync(state, budget.Token);
                }
                else
                {
                    await using var secure = new SslStream(client.GetStream(), leaveInnerStreamOpen: true);
                    await secure.AuthenticateAsClientAsync(tls, budget.Token);
                    await secure.WriteAsync(state, budget.Token);
                    await secure.ShutdownAsync();
                }

                client.Client.Shutdown(SocketShutdown.Send);
            }

            while (true)
            {
                var info = await target.QueryMigrateAsync(budget.Token);
                if (info.State == QmpMigrationStatus.Completed)
                {
                    return;
                }

                if (info.State.IsFinal())
                {
                    throw new IOException($"The target QEMU refused the device state: {info.Status} {info.ErrorDescription}");
                }

                // The MIGRATION event wakes this at once; the short poll covers an event missed before subscribing.
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(budget.Token);
                wake.CancelAfter(TimeSpan.FromMilliseconds(20));
                try
                {
                    await events.Reader.WaitToReadAsync(wake.Token);
                    while (events.Reader.TryRead(out _))
                    {
                    }
                }
                catch (OperationCanceledException) when (!budget.IsCancellationRequested)
                {
                }
            }
        }
        catch (QmpException ex)
        {
            throw new IOException($"Loading the device state into the target QEMU failed: {ex.Message}", ex);
        }
        catch (AuthenticationException ex)
        {
            throw new IOException($"The TLS handshake with the target QEMU failed: {ex.Message}", ex);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"The target QEMU did not load the device state within {SettleBudget.TotalSeconds} s.");
        }
    }

    /// <summary>Switches x-ignore-shared off again: a later qemu-transport migration of this guest must send its RAM.</summary>
    public static async Task ResetAsync(IQmpClient source)
    {
        try
        {
            using var budget = new CancellationTokenSource(SettleBudget);
            await source.SetMigrationCapabilitiesAsync([new MigrationCapability(MigrationCapability.IgnoreShared, false)], budget.Token);
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException)
        {
            // QEMU is gone or wedged: nothing will migrate it again with the capability on.
        }
    }
}
