using Ferry.Agent.Qmp;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>QEMU's own migration driven over QMP: the core of the <c>qemu</c> transport.</summary>
public interface IQemuMigration
{
    /// <summary>
    /// Configures a target started with <c>-incoming defer</c> and makes it listen on <paramref name="listen"/>;
    /// with <paramref name="tls"/> only a source presenting a certificate from the cluster CA gets a stream in.
    /// </summary>
    /// <exception cref="QmpException">The target refused (or could not load the credentials).</exception>
    Task PrepareIncomingAsync(IQmpClient target, MigrationUri listen, MigrationSettings settings, QemuMigrationTls? tls, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the migration TLS credentials out of a QEMU that stays (a source whose migration failed, a
    /// target that now runs the guest): the parameters off, the object deleted. Never throws for QEMU's sake.
    /// </summary>
    Task DropTlsAsync(IQmpClient qemu, CancellationToken cancellationToken = default);

    /// <summary>
    /// Migrates and, on success, confirms the target runs before the deferred source cleanup.
    /// Cancelling <paramref name="cancellationToken"/> cancels the migration (result
    /// <see cref="MigrationOutcome.Cancelled"/>) unless it already completed.
    /// </summary>
    Task<QemuMigrationResult> MigrateAsync(QemuMigrationRequest request, CancellationToken cancellationToken = default);
}
