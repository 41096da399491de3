using System.Globalization;
using Ferry.Agent.Ovs;
using Ferry.Agent.Qemu;
using Ferry.Transfer.Dirty;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// Which tracker can see every write to a QEMU guest's RAM file, asked of Transfer's <see cref="DirtyTrackerProbe"/>
/// (the one probe; this class is not another one, it only knows who the writers of a QEMU guest are). Page-table tracking is per process,
/// and the writers are QEMU (its vCPUs under TCG, KVM's guest writes through QEMU's pages, its device models) and,
/// for a guest with vhost-user ports, ovs-vswitchd (DPDK writes received frames and used rings through its own
/// mapping). Preferred: userfaultfd write-protect in async mode with PAGEMAP_SCAN (Linux 6.7+), through a
/// userfaultfd created inside each writer by <c>libferry-uffd.so</c>, which the launcher and the switch preload
/// into QEMU and ovs-vswitchd and the agent takes with pidfd_getfd. It covers hugetlbfs too (per huge page). Else
/// soft-dirty, for 4 KiB shmem on kernels built with it. Any other process that maps the RAM file, or a writer
/// without a userfaultfd (a system OVS the agent did not start), makes live passes impossible, and the verdict
/// names it.
/// </summary>
internal sealed class QemuGuestTracking(UserfaultfdRegistry userfaultfds, IOvsSwitch? ovs) : IQemuGuestTracking
{
    // The kernel and the agent's build do not change while it runs.
    private readonly Lazy<TrackerVerdict> _host = new(DirtyTrackerProbe.ForHost);

    public TrackerVerdict ForHost() => _host.Value;

    public TrackerVerdict ForGuest(QemuProcess qemu)
    {
        ArgumentNullException.ThrowIfNull(qemu);
        var host = ForHost();
        if (!host.Available)
        {
            return host;
        }

        var writers = WritersOf(qemu, out var stranger);
        if (stranger is not null)
        {
            return TrackerVerdict.Unavailable(stranger);
        }

        return DirtyTrackerProbe.ForWriters(host, writers, qemu.Spec.Backing == MemoryBacking.Hugetlbfs, userfaultfds.TryGet);
    }

    /// <summary>
    /// QEMU, and ovs-vswitchd when the guest has vhost-user ports (whether or not DPDK has mapped the RAM
    /// yet: it does so seconds after QEMU connects, and the tracker registers the mapping when it appears).
    /// Any other process mapping the RAM file is a writer nobody tracks.
    /// </summary>
    private List<(int Pid, string Name)> WritersOf(QemuProcess qemu, out string? stranger)
    {
        stranger = null;
        var writers = new List<(int, string)> { (qemu.Pid, $"QEMU (pid {qemu.Pid.ToString(CultureInfo.InvariantCulture)})") };
        var vswitchd = ovs?.VswitchdProcessId;
        if (qemu.Spec.VhostUserPorts is { Count: > 0 })
        {
            if (vswitchd is not { } pid)
            {
                stranger = "the guest has vhost-user ports and ovs-vswitchd was not started by this agent (a system OVS), so no userfaultfd can be taken from it: its writes into the guest's RAM would go unseen";
                return writers;
            }

            writers.Add((pid, $"ovs-vswitchd (pid {pid.ToString(CultureInfo.InvariantCulture)})"));
        }

        int[] known = vswitchd is { } switchPid ? [qemu.Pid, switchPid] : [qemu.Pid];
        if (DirtyTrackerProbe.FindUntrackedMapper(qemu.Layout.RamFile, known) is { } mapper)
        {
            stranger = $"{mapper.Command} (pid {mapper.Pid.ToString(CultureInfo.InvariantCulture)}) maps the guest's RAM file {qemu.Layout.RamFile} and is not tracked: its writes would go unseen";
        }

        return writers;
    }
}
