namespace Ferry.Transfer.Dirty;

/// <summary>Whether a tracker works on this machine, and why (or why not).</summary>
/// <param name="Kind">The tracker.</param>
/// <param name="Available">True when the probe saw it report a known write exactly.</param>
/// <param name="Reason">What the probe found, in words an operator can act on.</param>
public sealed record TrackerAvailability(DirtyTrackerKind Kind, bool Available, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Kind}: {(Available ? "available" : "unavailable")}: {Reason}";
}
