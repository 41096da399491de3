namespace Ferry.Agent.Probe;

/// <summary>
/// What a sink saw of one stream. <see cref="LongestGap"/> is the longest interval between two
/// consecutive arrivals, the network-measured downtime when the stream flows through a migrating
/// guest; silence before the first or after the last frame is not a gap.
/// </summary>
/// <param name="Expected">Frames the sender says it sent, or the highest sequence seen plus one.</param>
/// <param name="Received">Distinct sequence numbers that arrived.</param>
/// <param name="Duplicates">Arrivals of a sequence number already seen.</param>
/// <param name="Reordered">Arrivals of a sequence number lower than one already seen.</param>
/// <param name="LongestGap">The longest interval between consecutive arrivals.</param>
/// <param name="LastBeforeLongestGap">The sequence number that arrived just before the longest gap.</param>
/// <param name="ArrivalSpan">From the first arrival to the last.</param>
public sealed record ProbeReport(
    long Expected,
    long Received,
    long Duplicates,
    long Reordered,
    TimeSpan LongestGap,
    ulong? LastBeforeLongestGap,
    TimeSpan ArrivalSpan)
{
    /// <summary>
    /// The longest gap between consecutive arrivals that overlaps the recorder's window (see
    /// <see cref="SequenceRecorder.OpenWindow"/>): for a migrating guest, the network downtime across the
    /// switch-over. Null when no window was opened or no two arrivals enclosed any part of it.
    /// </summary>
    public TimeSpan? WindowGap { get; init; }

    /// <summary>Frames sent within <see cref="WindowGap"/> that never arrived.</summary>
    public long WindowGapLost { get; init; }

    /// <summary>Arrivals after the window closed: whether, and how much, the stream resumed.</summary>
    public long ArrivalsAfterWindow { get; init; }

    /// <summary>Frames of the stream that arrived with a payload other than their sequence number calls for (not counted as received).</summary>
    public long Corrupt { get; init; }

    /// <summary>Frames that never arrived.</summary>
    public long Lost => Math.Max(0, Expected - Received);

    /// <summary>Arrivals per second between the first and the last arrival; zero with fewer than two.</summary>
    public double ArrivalRate => Received > 1 && ArrivalSpan > TimeSpan.Zero
        ? (Received - 1) / ArrivalSpan.TotalSeconds
        : 0;
}
