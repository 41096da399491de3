namespace Ferry.Agent.Qmp;

/// <summary>QEMU's <c>MigrationStatus</c>, the subset Ferry acts on; anything else is <see cref="Other"/>.</summary>
public enum QmpMigrationStatus
{
    None,
    Setup,
    Active,
    PreSwitchover,
    Device,
    Cancelling,
    Cancelled,
    Completed,
    Failed,
    Other,
}
