namespace Ferry.Api.Scheduling;

/// <summary>
/// Carries a scheduled migration out with the host agents. The scheduler hands over each
/// migration it owns; the dispatcher persists every phase before taking the next step, so a
/// migration handed over again after a restart resumes where it stood.
/// </summary>
public interface IMigrationDispatcher
{
    /// <summary>
    /// Drives the migration from its persisted phase to its end. <paramref name="stopping"/> fires
    /// when this API instance shuts down: stop driving and leave the persisted state as it is.
    /// </summary>
    Task RunAsync(Guid migrationId, CancellationToken stopping);

    /// <summary>
    /// The control plane is stopping the migration (a cancel, or a timeout): stop it, tear the
    /// target down and leave the guest running on the source. Idempotent. Returns false when the
    /// source had already paused the guest for switch-over: the migration then finishes forward.
    /// </summary>
    Task<bool> AbortAsync(Guid migrationId, CancellationToken cancellationToken);
}
