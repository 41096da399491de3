namespace Ferry.Agent.Migration.Native;

/// <summary>
/// Whether a dirty-page tracker covers a guest (or, on the target, could cover guests on this host),
/// and why. <paramref name="Processes"/> are the processes whose writes it must see: every process
/// that maps the guest's RAM file, QEMU and the vhost-user backend alike.
/// </summary>
public sealed record TrackerVerdict(bool Available, string Reason, IReadOnlyList<int> Processes)
{
    public static TrackerVerdict Unavailable(string reason) => new(false, reason, []);
}
