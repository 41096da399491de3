using Ferry.Agent.Qmp;

namespace Ferry.Agent.Migration;

/// <summary>A validated Migrate request: every field has been checked, the URI built by the agent.</summary>
public sealed record OutgoingMigrationRequest(
    string MigrationId,
    string Guest,
    MigrationUri Destination,
    Uri TargetAgent,
    QemuMigrationSettings Settings,
    TransportChoice Transport);
