using System.Net;
using Ferry.Agent.Qemu;

namespace Ferry.Agent.Migration;

/// <summary>A target prepared on this host: the waiting QEMU and where it listens.</summary>
public sealed record IncomingMigration(string MigrationId, string Guest, QemuProcess Qemu, IPAddress Address, int Port, TransportChoice Transport)
{
    /// <summary>The page-transfer engine's port on <see cref="Address"/>, when the native transport was prepared; 0 otherwise.</summary>
    public int PageStreamPort { get; init; }

    /// <summary>The token the engine's receiver accepts; null when there is no receiver.</summary>
    public byte[]? PageStreamToken { get; init; }

    /// <summary>Watches for the guest's arrival here, for the switch-over's parts.</summary>
    internal ArrivalWatch? Arrival { get; init; }
}
