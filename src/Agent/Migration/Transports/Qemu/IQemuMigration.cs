using Ferry.Agent.Qmp;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>QEMU's own migration driven over QMP: the core of the <c>qemu</c> transport.</summary>
public interface IQemuMigration
{
    /// <summary>Configures a target started with <c>-incoming defer</c> and makes it listen on <paramref name="listen"/>.</summary>
    /// <exception cref="QmpException">The target refused.</exception>
    Task PrepareIncomingAsync(IQmpClient target, MigrationUri listen, MigrationSettings settings, CancellationToken cancellationToken = default);

    /// <summary>
    /// Migrates and, on success, confirms the target runs before the deferred source cleanup.
    /// Cancelling <paramref name="cancellationToken"/> cancels the migration (result
    /// <see cref="MigrationOutcome.Cancelled"/>) unless it already completed.
    /// </summary>
    Task<QemuMigrationResult> MigrateAsync(QemuMigrationRequest request, CancellationToken cancellationToken = default);
}
