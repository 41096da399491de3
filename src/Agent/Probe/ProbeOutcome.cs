namespace Ferry.Agent.Probe;

/// <summary>
/// What a migration's probe measured. <paramref name="NetworkDowntime"/> is the gap in the stream across
/// the switch-over, null when it could not be measured (<paramref name="Note"/> says why).
/// </summary>
public sealed record ProbeOutcome(TimeSpan? NetworkDowntime, long FramesSent, long FramesLost, double PacketRatePps, string? Note);
