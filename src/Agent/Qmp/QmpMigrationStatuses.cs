namespace Ferry.Agent.Qmp;

/// <summary>Reads QEMU's <c>MigrationStatus</c> strings (<c>query-migrate</c>, the <c>MIGRATION</c> event) into <see cref="QmpMigrationStatus"/>.</summary>
public static class QmpMigrationStatuses
{
    public static QmpMigrationStatus Parse(string? status) => status switch
    {
        null or "none" => QmpMigrationStatus.None,
        "setup" => QmpMigrationStatus.Setup,
        "active" => QmpMigrationStatus.Active,
        "pre-switchover" => QmpMigrationStatus.PreSwitchover,
        "device" => QmpMigrationStatus.Device,
        "cancelling" => QmpMigrationStatus.Cancelling,
        "cancelled" => QmpMigrationStatus.Cancelled,
        "completed" => QmpMigrationStatus.Completed,
        "failed" => QmpMigrationStatus.Failed,
        _ => QmpMigrationStatus.Other,
    };

    public static bool IsFinal(this QmpMigrationStatus state) =>
        state is QmpMigrationStatus.Completed or QmpMigrationStatus.Failed or QmpMigrationStatus.Cancelled;
}
