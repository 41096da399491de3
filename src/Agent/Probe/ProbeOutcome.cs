namespace Ferry.Agent.Probe;

/// <summary>
/// What a migration's probe measured. <paramref name="NetworkDowntime"/> is the gap in the stream across
/// the switch-over, null when it could not be measured (<paramref name="Note"/> says why).
/// </summary>
public sealed record ProbeOutcome(TimeSpan? NetworkDowntime, long FramesSent, long FramesLost, double PacketRatePps, string? Note)
{
    /// <summary>From the guest's pause to the first announcement (RARP) of its new location reaching the sink; null when none came.</summary>
    public TimeSpan? AnnouncedAfterPause { get; init; }

    /// <summary>Frames that came back with a garbled payload.</summary>
    public long FramesCorrupt { get; init; }
}
