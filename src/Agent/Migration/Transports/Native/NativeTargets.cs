using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Microsoft.Extensions.Logging;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Native;

internal sealed class NativeTargets(ILogger<NativeTargets> logger) : INativeTargets, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, NativeReceiver> _receivers = new(StringComparer.Ordinal);

    public int Open(string migrationId, QemuProcess qemu, MigrationUri qemuListen, bool qemuConfigured, SslClientAuthenticationOptions? qemuTls, IPAddress address,
        Transfer.Protocol.MigrationCredentials credentials, MigrationSettings settings)
    {
        var receiver = NativeReceiver.Start(migrationId, qemu, qemuListen, qemuConfigured, qemuTls, address, credentials, settings, logger);
        if (!_receivers.TryAdd(migrationId, receiver))
        {
            // The ledger prepares a migration id once; a second receiver would be a bug.
            _ = receiver.DisposeAsync().AsTask();
            throw new InvalidOperationException($"Migration {migrationId} already has a receiver.");
        }

        return receiver.Port;
    }

    public async Task CloseAsync(string migrationId)
    {
        if (_receivers.TryRemove(migrationId, out var receiver))
        {
            await receiver.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _receivers.Keys)
        {
            await CloseAsync(id);
        }
    }
}
