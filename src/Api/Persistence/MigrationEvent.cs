using Ferry.Domain.Migrations;

namespace Ferry.Api.Persistence;

/// <summary>
/// One row of the append-only event log that the event streams read: a state change, a progress
/// sample or a migration's result, with the JSON the stream sends. A writer inserts it with its change
/// (<see cref="FerryDbContext.SaveChangesAsync(bool, CancellationToken)"/>) and no
/// <see cref="Position"/>; the <see cref="Events.EventSequencer"/> gives committed rows their positions
/// in order, so positions become visible in ascending order on every replica.
/// </summary>
internal sealed class MigrationEvent
{
    /// <summary>Taken at insert; orders the rows of one batch for the sequencer, never shown to a client.</summary>
    public long Id { get; set; }

    /// <summary>
    /// The event's place in the log, the <c>id:</c> a stream sends and <c>Last-Event-ID</c> resumes after; null
    /// until the sequencer reached the row. Every row given a position commits before any later one is given.
    /// </summary>
    public long? Position { get; set; }

    public Guid MigrationId { get; set; }

    /// <summary><c>state</c>, <c>progress</c> or <c>result</c> (<see cref="MigrationEventKinds"/>).</summary>
    public string Kind { get; set; } = "";

    /// <summary>The migration's state the event describes (for progress: the state it was in).</summary>
    public MigrationState State { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>One-line JSON: the migration's REST view for state and result, the sample for progress.</summary>
    public string Data { get; set; } = "";
}
