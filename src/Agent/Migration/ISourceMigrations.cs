namespace Ferry.Agent.Migration;

/// <summary>The source side of migrations on this host; every call is idempotent by migration id.</summary>
public interface ISourceMigrations
{
    /// <summary>
    /// Starts the migration the first time its id is seen and returns it; later calls return the same
    /// one, running or over. The migration runs in the background, independent of any caller.
    /// </summary>
    Task<OutgoingMigration> StartOrAttachAsync(OutgoingMigrationRequest request, CancellationToken cancellationToken);

    /// <summary>Cancels before switch-over and waits for the migration to settle; false when too late, over, or unknown.</summary>
    Task<bool> CancelAsync(string migrationId, CancellationToken cancellationToken);

    /// <summary>Quits the source guest once it has been handed over; refuses while it still runs here.</summary>
    Task<TimeSpan> CleanupAsync(string migrationId, string? guest, CancellationToken cancellationToken);
}
