using System.Net;
using System.Net.Security;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>The engine's receivers on this host, one per migration id.</summary>
public interface INativeTargets
{
    /// <summary>
    /// Starts receiving into <paramref name="qemu"/>'s RAM file on <paramref name="address"/> (a port the
    /// kernel picks) and returns that port; <paramref name="qemuListen"/> is where the waiting QEMU takes its device state,
    /// <paramref name="qemuConfigured"/> whether it was already configured for a device-state-only stream,
    /// <paramref name="qemuTls"/> the TLS its listener asks for (prepared for the qemu transport's TLS too), or null.
    /// </summary>
    int Open(string migrationId, QemuProcess qemu, MigrationUri qemuListen, bool qemuConfigured, SslClientAuthenticationOptions? qemuTls, IPAddress address,
        Transfer.Protocol.MigrationCredentials credentials, MigrationSettings settings);

    /// <summary>Stops the receiver of <paramref name="migrationId"/>, if any; it never resumes a guest afterwards.</summary>
    Task CloseAsync(string migrationId);
}
