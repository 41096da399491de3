using System.Net;
using Ferry.Agent.Qmp;

namespace Ferry.Agent.Migration;

/// <summary>
/// A validated Migrate request: every field has been checked, the URI built by the agent.
/// <paramref name="PageStream"/> and <paramref name="PageStreamToken"/> are the target's engine and its token, when it has one.
/// <paramref name="ProbeRatePps"/> is the network probe's frame rate, 0 for no probe.
/// <paramref name="TargetHost"/> is the target's host name as the API named it (its certificate must name it), when given.
/// </summary>
public sealed record OutgoingMigrationRequest(
    string MigrationId,
    string Guest,
    MigrationUri Destination,
    Uri TargetAgent,
    MigrationSettings Settings,
    TransportChoice Transport,
    IPEndPoint? PageStream = null,
    byte[]? PageStreamToken = null,
    int ProbeRatePps = 0,
    string? TargetHost = null);
