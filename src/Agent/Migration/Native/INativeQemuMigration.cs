using Ferry.Agent.Qemu;
using Ferry.Contracts;

namespace Ferry.Agent.Migration.Native;

/// <summary>The <c>native</c> transport for a QEMU guest: the engine moves the RAM file, QEMU only its device state.</summary>
public interface INativeQemuMigration
{
    /// <summary>
    /// Runs <paramref name="migration"/> to its end and returns the terminal message (never throws for an
    /// expected failure). Before switch-over a failure resumes the source and tears the target down; after
    /// it the source is never resumed. <paramref name="deferredSourceCleanup"/> runs only once the guest runs at the target.
    /// </summary>
    Task<MigrationProgress> MigrateAsync(OutgoingMigration migration, QemuProcess source, IMigrationTarget target, Func<CancellationToken, Task> deferredSourceCleanup);
}
