using Ferry.Agent.Qmp;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>One progress sample, reported while the migration runs.</summary>
public sealed record QemuMigrationProgress(
    QmpMigrationStatus State,
    long Pass,
    long TransferredBytes,
    long RemainingBytes,
    long TotalBytes,
    long DirtyPagesRate,
    double ThroughputMbps);
