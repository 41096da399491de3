namespace Ferry.Agent.Qmp;

public static class MigrationStates
{
    public static MigrationState Parse(string? status) => status switch
    {
        null or "none" => MigrationState.None,
        "setup" => MigrationState.Setup,
        "active" => MigrationState.Active,
        "pre-switchover" => MigrationState.PreSwitchover,
        "device" => MigrationState.Device,
        "cancelling" => MigrationState.Cancelling,
        "cancelled" => MigrationState.Cancelled,
        "completed" => MigrationState.Completed,
        "failed" => MigrationState.Failed,
        _ => MigrationState.Other,
    };

    public static bool IsFinal(this MigrationState state) =>
        state is MigrationState.Completed or MigrationState.Failed or MigrationState.Cancelled;
}
