using Ferry.Agent.Qmp;

namespace Ferry.Agent.Migration;

/// <summary>One progress sample, reported while the migration runs.</summary>
public sealed record QemuMigrationProgress(
    MigrationState State,
    long Pass,
    long TransferredBytes,
    long RemainingBytes,
    long TotalBytes,
    long DirtyPagesRate,
    double ThroughputMbps);
