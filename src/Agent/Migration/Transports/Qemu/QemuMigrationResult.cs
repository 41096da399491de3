using Ferry.Agent.Migration;
namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>
/// How a migration ended. Expected failures are values here, never exceptions.
/// <see cref="SourceRunning"/> is what the source reported after a failure or cancel (null when it
/// could not be asked); <see cref="CleanupTime"/> is the deferred source cleanup, measured apart from the migration.
/// </summary>
public sealed record QemuMigrationResult(
    MigrationOutcome Outcome,
    string? Reason,
    QemuMigrationStats? Stats,
    bool? SourceRunning,
    TimeSpan? CleanupTime);
