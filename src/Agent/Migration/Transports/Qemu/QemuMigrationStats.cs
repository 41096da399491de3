using Ferry.Agent.Migration;
namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>QEMU's own measurements of a migration (from <c>query-migrate</c>), plus the pass count seen in events.</summary>
public sealed record QemuMigrationStats(
    long TotalTimeMs,
    long DowntimeMs,
    long SetupTimeMs,
    long TransferredBytes,
    long TotalBytes,
    long ZeroPages,
    long NormalPages,
    long Passes,
    long DirtyPagesRate,
    double ThroughputMbps);
