namespace Ferry.Transfer.Dirty;

/// <summary>
/// Whether a dirty-page tracker works, and why (or why not): for one mechanism of this kernel, for the guests of this
/// host, or for one guest's RAM. <paramref name="Kind"/> is the tracker that would run; <paramref name="Processes"/>
/// the processes whose writes it sees (for a guest: QEMU, and ovs-vswitchd for a guest with vhost-user ports), and
/// for the write-protect tracker <see cref="Writers"/> their userfaultfds. The one answer type of
/// <see cref="DirtyTrackerProbe"/>.
/// </summary>
/// <param name="Available">True when the tracker works (for a mechanism: the probe saw it report a known write exactly).</param>
/// <param name="Reason">What the probe found, in words an operator can act on.</param>
/// <param name="Processes">The processes whose writes the tracker sees; empty unless the verdict is about one guest.</param>
/// <param name="Kind">The tracker; null when none works.</param>
public sealed record TrackerVerdict(bool Available, string Reason, IReadOnlyList<int> Processes, DirtyTrackerKind? Kind = null)
{
    /// <summary>The userfaultfds of <see cref="Processes"/>, for the write-protect tracker.</summary>
    public IReadOnlyList<ProcessUserfaultfd> Writers { get; init; } = [];

    /// <summary>No tracker works, because of <paramref name="reason"/>.</summary>
    /// <param name="reason">Why not.</param>
    public static TrackerVerdict Unavailable(string reason) => new(false, reason, []);

    /// <inheritdoc/>
    public override string ToString() => $"{(Kind is { } kind ? kind.ToString() : "no tracker")}: {(Available ? "available" : "unavailable")}: {Reason}";
}
