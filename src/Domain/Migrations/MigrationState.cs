namespace Ferry.Domain.Migrations;

/// <summary>Phases of a migration; see <see cref="MigrationStateMachine"/> for the legal moves.</summary>
public enum MigrationState
{
    /// <summary>Accepted, waiting for the scheduler.</summary>
    Queued,

    /// <summary>Claimed by a scheduler, target chosen.</summary>
    Scheduled,

    /// <summary>The target agent prepares memory, ports and the receiving process.</summary>
    PreparingTarget,

    /// <summary>The target waits for pages.</summary>
    TargetReady,

    /// <summary>Pages are moving while the guest runs on the source.</summary>
    Running,

    /// <summary>The guest is paused on the source; final state moves. From here on the source is never resumed.</summary>
    SwitchingOver,

    /// <summary>The guest runs on the target; the source tears down outside the downtime window.</summary>
    CleaningUp,

    /// <summary>Done; the guest runs on the target.</summary>
    Completed,

    /// <summary>Cancel requested; the source keeps running while the target is torn down.</summary>
    Cancelling,

    /// <summary>Cancelled; the guest runs on the source.</summary>
    Cancelled,

    /// <summary>Failed; <see cref="Migration.GuestOnTarget"/> tells where the guest is.</summary>
    Failed,
}
