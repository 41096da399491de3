using Ferry.Domain.Migrations;

namespace Ferry.Api.Persistence;

/// <summary>
/// One row of the append-only event log that the event streams read: a state change, a progress
/// sample or a migration's result, with the JSON the stream sends. <see cref="Id"/> is a bigserial
/// taken under a transaction-scoped advisory lock held until commit (see
/// <see cref="FerryDbContext.SaveChangesAsync(bool, CancellationToken)"/>), so ids become visible in
/// the order they were given out, on every replica.
/// </summary>
internal sealed class MigrationEvent
{
    public long Id { get; set; }

    public Guid MigrationId { get; set; }

    /// <summary><c>state</c>, <c>progress</c> or <c>result</c> (<see cref="MigrationEventKinds"/>).</summary>
    public string Kind { get; set; } = "";

    /// <summary>The migration's state the event describes (for progress: the state it was in).</summary>
    public MigrationState State { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>One-line JSON: the migration's REST view for state and result, the sample for progress.</summary>
    public string Data { get; set; } = "";
}
