using System.Net;
using Ferry.Agent.Qemu;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>The engine's receivers on this host, one per migration id.</summary>
public interface INativeTargets
{
    /// <summary>
    /// Starts receiving into <paramref name="qemu"/>'s RAM file on <paramref name="address"/> (a port the
    /// kernel picks) and returns that port; once every page is in, the receiver loads the device state
    /// into the waiting QEMU and resumes the guest.
    /// </summary>
    int Open(string migrationId, QemuProcess qemu, IPAddress address, byte[] token, MigrationSettings settings);

    /// <summary>Stops the receiver of <paramref name="migrationId"/>, if any; it never resumes a guest afterwards.</summary>
    Task CloseAsync(string migrationId);
}
