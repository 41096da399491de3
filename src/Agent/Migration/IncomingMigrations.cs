using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Ferry.Agent.Guests;
using Ferry.Agent.Qemu;
using Ferry.Agent.Migration.Transports.Native;
using Ferry.Agent.Qmp;
using Ferry.Agent.Testing;
using Ferry.Domain.Migrations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ferry.Agent.Migration.Transports.Qemu;

namespace Ferry.Agent.Migration;

/// <summary>
/// The target side of migrations on this host (<see cref="IncomingMigration"/>s; the engine's own receiving loop is
/// <c>Ferry.Transfer.Migration.DestinationMigration</c>).
/// </summary>
internal sealed partial class IncomingMigrations(
    IMigrationLedger ledger,
    IGuestRegistry guests,
    GuestPorts ports,
    IQemuMigration qemuMigration,
    IQemuTlsCredentials qemuTls,
    INativeTargets nativeTargets,
    IFaultHold hold,
    IOptions<AgentOptions> options,
    TimeProvider timeProvider,
    ILogger<IncomingMigrations> logger) : IIncomingMigrations
{
    private static readonly TimeSpan StatusBudget = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, Lazy<Task>> _teardowns = new(StringComparer.Ordinal);

    public async Task<IncomingMigration> PrepareAsync(string migrationId, GuestDefinition guest, MigrationSettings settings, TransportChoice transport, byte[]? pageStreamToken,
        string? sourceHost, IPAddress? sourceAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(guest);
        ArgumentNullException.ThrowIfNull(transport);
        if (ledger.IsIncomingTornDown(migrationId))
        {
            throw new RequestRefusedException(Refusal.FailedPrecondition, $"Migration {migrationId} was torn down on this host; a new attempt needs a new id.");
        }

        // Not the caller's token: a preparation outlives a caller that gave up, and its retry attaches to it.
        var incoming = await ledger.GetOrPrepareIncomingAsync(migrationId, () => PrepareCoreAsync(migrationId, guest, settings, transport, pageStreamToken, sourceHost, sourceAddress));
        return string.Equals(incoming.Guest, guest.Name, StringComparison.Ordinal)
            ? incoming
            : throw new ArgumentException($"Migration {migrationId} receives guest '{incoming.Guest}', not '{guest.Name}'.", nameof(guest));
    }

    /// <summary>
    /// Tears the incoming guest down. The source agent (aborting) and the control plane (cancelling)
    /// may ask at the same time: they share one teardown, and each returns only once the QEMU and
    /// its ports are gone. A caller that gives up does not cut the teardown short.
    /// </summary>
    public async Task<TimeSpan> CleanupAsync(string migrationId, CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        var teardown = _teardowns.GetOrAdd(migrationId, id => new Lazy<Task>(() => TearDownAsync(id), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            await teardown.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            if (teardown.Value.IsCompleted)
            {
                // The next request looks again: after a refusal (the guest runs here) the answer may differ.
                _teardowns.TryRemove(new KeyValuePair<string, Lazy<Task>>(migrationId, teardown));
            }
        }

        return timeProvider.GetElapsedTime(started);
    }

    public async Task<GuestArrival> DescribeArrivalAsync(string migrationId, TimeSpan wait, CancellationToken cancellationToken)
    {
        var incoming = await ledger.FindIncomingAsync(migrationId)
            ?? throw new RequestRefusedException(Refusal.NotFound, $"No target of migration {migrationId} was prepared on this host.");
        return incoming.Arrival is { } arrival
            ? await arrival.DescribeAsync(wait, timeProvider, cancellationToken)
            : new GuestArrival(null, null, "the arrival was not watched");
    }

    private async Task TearDownAsync(string migrationId)
    {
        if (await ledger.FindIncomingAsync(migrationId) is not { } incoming)
        {
            ledger.MarkIncomingTornDown(migrationId);
            return;
        }

        if (!incoming.Qemu.HasExited)
        {
            RunState? state;
            try
            {
                using var budget = new CancellationTokenSource(StatusBudget, timeProvider);
                state = await incoming.Qemu.Qmp.QueryStatusAsync(budget.Token);
            }
            catch (QmpException)
            {
                state = null;
            }
            catch (OperationCanceledException ex)
            {
                // Silent, not gone: it may be the only copy of a guest that just resumed here.
                throw new RequestRefusedException(Refusal.Unavailable, $"Guest '{incoming.Guest}' did not answer a status query within {StatusBudget.TotalSeconds:0} s; not tearing it down blind.", ex);
            }

            if (state is { Running: true })
            {
                // The guest resumed here: the migration completed and this is the only copy now.
                throw new RequestRefusedException(Refusal.FailedPrecondition, $"Guest '{incoming.Guest}' runs here: migration {migrationId} completed; not tearing it down.");
            }
        }

        ledger.MarkIncomingTornDown(migrationId);
        incoming.Arrival?.Dispose();
        await nativeTargets.CloseAsync(migrationId);
        await guests.RemoveAsync(incoming.Guest, incoming.Qemu, graceful: false, CancellationToken.None);
        Log.TornDown(logger, migrationId, incoming.Guest);
    }

    private async Task<IncomingMigration> PrepareCoreAsync(string migrationId, GuestDefinition guest, MigrationSettings settings, TransportChoice transport, byte[]? pageStreamToken,
        string? sourceHost, IPAddress? sourceAddress)
    {
        await hold.AtAsync("preparingTarget", migrationId);
        var instance = MigrationId.TargetInstance(guest.Name, migrationId);

        // Before QEMU starts: a port that would take any cluster certificate is not opened at all.
        var tls = transport.Kind == TransportKind.Native ? null : TargetTls(sourceHost, acceptThisHost: transport.Kind != TransportKind.Qemu);

        // From before the ports are added: OVS's log then holds every line of this guest's arrival.
        var backends = ports.WatchBackends();
        var qemu = await guests.LaunchIncomingAsync(guest, instance, CancellationToken.None)
            ?? throw new RequestRefusedException(Refusal.FailedPrecondition, $"Guest '{guest.Name}' already exists on this host.");
        var arrival = ArrivalWatch.Start(qemu, backends);
        try
        {
            var address = options.Value.ResolveMigrationAddress();
            if (transport.Kind == TransportKind.Qemu)
            {
                var listen = MigrationUri.Tcp(address, FreePort(address));
                await qemuMigration.PrepareIncomingAsync(qemu.Qmp, listen, settings, tls, CancellationToken.None);
                DropTlsOnArrival(arrival, qemu, tls);
                Log.Prepared(logger, migrationId, guest.Name, listen.Value, $"{transport.Reason}; {tls?.Describe() ?? qemuTls.PlainReason}");
                return new IncomingMigration(migrationId, guest.Name, qemu, address, listen.Endpoint.Port, transport) { Arrival = arrival };
            }

            // Native only: QEMU takes nothing but the device state, from this agent, so it listens on loopback
            // alone, in plain TCP. Auto with both prepared: QEMU listens where the source's QEMU can reach it,
            // with TLS, and this agent hands it the device state over TLS too if the source picks native.
            var qemuListen = transport.Kind == TransportKind.Native ? MigrationUri.Tcp(IPAddress.Loopback, FreePort(IPAddress.Loopback)) : MigrationUri.Tcp(address, FreePort(address));
            var nativeOnly = transport.Kind == TransportKind.Native;
            var listenTls = tls;
            await qemuMigration.PrepareIncomingAsync(qemu.Qmp, qemuListen, nativeOnly ? settings with { ParallelStreams = 1 } : settings, listenTls, CancellationToken.None);
            DropTlsOnArrival(arrival, qemu, listenTls);
            if (nativeOnly)
            {
                await QemuDeviceState.ConfigureAsync(qemu.Qmp, CancellationToken.None);
            }

            var token = pageStreamToken ?? PageStreamCredentials.NewToken();
            var enginePort = nativeTargets.Open(migrationId, qemu, qemuListen, nativeOnly, listenTls is null ? null : qemuTls.LocalClient(), address,
                PageStreamCredentials.For(migrationId, token, sourceAddress), settings);
            Log.Prepared(logger, migrationId, guest.Name, $"tcp:{address}:{enginePort} (page streams)", transport.Reason);
            var port = transport.Kind == TransportKind.Native ? enginePort : qemuListen.Endpoint.Port;
            return new IncomingMigration(migrationId, guest.Name, qemu, address, port, transport) { PageStreamPort = enginePort, PageStreamToken = token, Arrival = arrival };
        }
        catch
        {
            arrival.Dispose();
            await nativeTargets.CloseAsync(migrationId);
            await guests.RemoveAsync(guest.Name, qemu, graceful: false, CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// QEMU's TLS for a target that listens where the source's QEMU reaches it: only the source host's
    /// certificate gets a stream in, and for an auto target this host's too (this agent hands QEMU the
    /// device state when the source picks native); null without cluster TLS.
    /// </summary>
    private QemuMigrationTls? TargetTls(string? sourceHost, bool acceptThisHost)
    {
        if (!qemuTls.Enabled)
        {
            return null;
        }

        if (string.IsNullOrEmpty(sourceHost))
        {
            throw new RequestRefusedException(Refusal.FailedPrecondition,
                "QEMU's TLS migration port takes a stream only from the source host's certificate, and this request names no source host (source_host).");
        }

        try
        {
            return qemuTls.ForTarget(sourceHost, acceptThisHost);
        }
        catch (IOException ex)
        {
            throw new RequestRefusedException(Refusal.FailedPrecondition, $"QEMU's migration TLS credentials are not usable here: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Once the guest runs here, its QEMU needs the migration's key no more: it leaves with the credentials
    /// object, in the background. A target torn down first takes it along anyway.
    /// </summary>
    private void DropTlsOnArrival(ArrivalWatch arrival, QemuProcess qemu, QemuMigrationTls? tls)
    {
        if (tls is not null)
        {
            _ = DropAsync();
        }

        async Task DropAsync()
        {
            try
            {
                await arrival.Arrived;
                using var budget = new CancellationTokenSource(StatusBudget, timeProvider);
                await qemuMigration.DropTlsAsync(qemu.Qmp, budget.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                // The guest never ran here, or its QEMU is gone: there is nothing to take the key from.
            }
        }
    }

    /// <summary>
    /// A port the kernel just handed out on the migration address. Another process could take it before
    /// QEMU binds; then migrate-incoming fails and the preparation fails cleanly, to be retried.
    /// </summary>
    private static int FreePort(IPAddress address)
    {
        using var probe = new TcpListener(address, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.TargetPrepared, Level = LogLevel.Information, Message = "Migration {MigrationId}: target for guest {Guest} listens on {Uri} ({TransportReason})")]
        public static partial void Prepared(ILogger logger, string migrationId, string guest, string uri, string transportReason);

        [LoggerMessage(EventId = AgentEventIds.TargetTornDown, Level = LogLevel.Information, Message = "Migration {MigrationId}: target for guest {Guest} torn down")]
        public static partial void TornDown(ILogger logger, string migrationId, string guest);
    }
}
