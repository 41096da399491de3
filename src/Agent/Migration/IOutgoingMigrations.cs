using Ferry.Contracts;

namespace Ferry.Agent.Migration;

/// <summary>The source side of migrations on this host; every call is idempotent by migration id.</summary>
public interface IOutgoingMigrations
{
    /// <summary>
    /// Starts the migration the first time its id is seen and returns it; later calls return the same
    /// one, running or over. The migration runs in the background, independent of any caller.
    /// </summary>
    Task<OutgoingMigration> StartOrAttachAsync(OutgoingMigrationRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels before switch-over and waits for the migration to settle. Says what it found: cancelled (the
    /// guest runs here), too late (the guest was paused for switch-over: the target must stay), already
    /// ended (Migrate replays the end), or unknown (no record of the migration here).
    /// </summary>
    Task<CancelReply.Types.Outcome> CancelAsync(string migrationId, CancellationToken cancellationToken);

    /// <summary>Quits the source guest once it has been handed over; refuses while it still runs here.</summary>
    Task<TimeSpan> CleanupAsync(string migrationId, string? guest, CancellationToken cancellationToken);
}
