namespace Ferry.Agent.Migration;

public enum MigrationOutcome
{
    /// <summary>The guest runs on the target; the source has been cleaned up.</summary>
    Completed,

    /// <summary>Something went wrong; see the reason. Before switch-over the source keeps running.</summary>
    Failed,

    /// <summary>Cancelled on request before switch-over; the source keeps running, the target is gone.</summary>
    Cancelled,
}
