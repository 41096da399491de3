using Ferry.Transfer.Dirty;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// Whether a dirty-page tracker covers a guest (or, on the target, could cover guests on this host),
/// and why. <paramref name="Kind"/> is the tracker that would run; <paramref name="Processes"/> the
/// processes whose writes it sees (QEMU, and ovs-vswitchd for a guest with vhost-user ports), and for
/// the write-protect tracker <see cref="Writers"/> their userfaultfds.
/// </summary>
public sealed record TrackerVerdict(bool Available, string Reason, IReadOnlyList<int> Processes, DirtyTrackerKind? Kind = null)
{
    /// <summary>The userfaultfds of <see cref="Processes"/>, for the write-protect tracker.</summary>
    public IReadOnlyList<ProcessUserfaultfd> Writers { get; init; } = [];

    public static TrackerVerdict Unavailable(string reason) => new(false, reason, []);
}
