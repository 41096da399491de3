namespace Ferry.Agent.Migration;

/// <summary>
/// Per-migration state of this agent, keyed by migration id: what makes every call idempotent. It
/// lives in memory; what must survive the agent (results) goes through the result outbox.
/// </summary>
public interface IMigrationLedger
{
    OutgoingMigration? FindOutgoing(string migrationId);

    /// <summary>The migration currently moving <paramref name="guest"/> away, if any.</summary>
    OutgoingMigration? FindActiveOutgoing(string guest);

    /// <summary>
    /// The API has the result of <paramref name="migrationId"/>: its samples and probe records go, its end
    /// stays for late readers and cancels, and the oldest released migrations are forgotten past a bound.
    /// No-op for a migration that runs or is unknown.
    /// </summary>
    void ReleaseOutgoing(string migrationId);

    /// <summary>Adds a new outgoing migration; false when the id is already known.</summary>
    bool TryAddOutgoing(OutgoingMigration migration);

    /// <summary>
    /// Returns the prepared target of <paramref name="migrationId"/>, preparing it with
    /// <paramref name="prepare"/> the first time; concurrent callers share one preparation, and a
    /// failed one is forgotten so a retry prepares again.
    /// </summary>
    Task<IncomingMigration> GetOrPrepareIncomingAsync(string migrationId, Func<Task<IncomingMigration>> prepare);

    /// <summary>The prepared target, or null when there is none (never prepared, failed, or torn down).</summary>
    Task<IncomingMigration?> FindIncomingAsync(string migrationId);

    /// <summary>Forgets the target and remembers that it was torn down, so a late PrepareIncoming does not revive it.</summary>
    void MarkIncomingTornDown(string migrationId);

    bool IsIncomingTornDown(string migrationId);

    IReadOnlyList<OutgoingMigration> Outgoing { get; }
}
