namespace Ferry.Domain.Migrations;

/// <summary>What a cancel request did.</summary>
public enum CancelOutcome
{
    /// <summary>The migration had already ended (or was already being cancelled): nothing changed.</summary>
    AlreadyEnded,

    /// <summary>The guest has been paused for switch-over; the migration can only finish.</summary>
    TooLate,

    /// <summary>No agent was involved yet: cancelled at once.</summary>
    Cancelled,

    /// <summary>Agents are tearing the target down; it becomes <see cref="MigrationState.Cancelled"/> when they are done.</summary>
    Cancelling,
}
