using System.Net;
using Ferry.Agent.Qemu;

namespace Ferry.Agent.Migration;

/// <summary>A target prepared on this host: the waiting QEMU and where it listens.</summary>
public sealed record IncomingMigration(string MigrationId, string Guest, QemuProcess Qemu, IPAddress Address, int Port, TransportChoice Transport);
