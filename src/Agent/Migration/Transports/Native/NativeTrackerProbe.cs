using System.Globalization;
using Ferry.Agent.Ovs;
using Ferry.Agent.Qemu;
using Ferry.Transfer.Dirty;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// Which tracker can see every write to a QEMU guest's RAM file. Page-table tracking is per process,
/// and the writers are QEMU (its vCPUs under TCG, KVM's guest writes through QEMU's pages, its device
/// models) and, for a guest with vhost-user ports, ovs-vswitchd (DPDK writes received frames and used
/// rings through its own mapping). Preferred: userfaultfd write-protect in async mode with PAGEMAP_SCAN
/// (Linux 6.7+), through a userfaultfd created inside each writer by <c>libferry-uffd.so</c>, which the
/// launcher and the switch preload into QEMU and ovs-vswitchd and the agent takes with pidfd_getfd. It
/// covers hugetlbfs too (per huge page). Else soft-dirty, for 4 KiB shmem on kernels built with it. Any
/// other process that maps the RAM file, or a writer without a userfaultfd (a system OVS the agent did
/// not start), makes live passes impossible, and the verdict names it.
/// </summary>
internal sealed class NativeTrackerProbe(UserfaultfdRegistry userfaultfds, IOvsSwitch? ovs) : INativeTrackerProbe
{
    private readonly Lazy<HostTrackers> _host = new(HostTrackers.Probe);

    public TrackerVerdict ForHost()
    {
        var host = _host.Value;
        if (host.WriteProtect is null)
        {
            return new TrackerVerdict(true, $"userfaultfd write-protect works here ({host.Library}), with a userfaultfd created in QEMU and ovs-vswitchd", [], DirtyTrackerKind.UserfaultfdWriteProtect);
        }

        return host.SoftDirty is null
            ? new TrackerVerdict(true, $"soft-dirty works here ({host.WriteProtect})", [], DirtyTrackerKind.SoftDirty)
            : TrackerVerdict.Unavailable($"no dirty tracker covers QEMU guests on this host: {host.WriteProtect}; soft-dirty is unavailable too ({host.SoftDirty})");
    }

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

        return host.Kind == DirtyTrackerKind.UserfaultfdWriteProtect ? WriteProtectFor(writers) : SoftDirtyFor(qemu, writers);
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

        foreach (var pid in MappersOf(qemu.Layout.RamFile).Where(p => p != qemu.Pid && p != vswitchd))
        {
            stranger = $"{CommandName(pid)} (pid {pid.ToString(CultureInfo.InvariantCulture)}) maps the guest's RAM file {qemu.Layout.RamFile} and is not tracked: its writes would go unseen";
            return writers;
        }

        return writers;
    }

    private TrackerVerdict WriteProtectFor(List<(int Pid, string Name)> writers)
    {
        var taken = new List<ProcessUserfaultfd>();
        foreach (var (pid, name) in writers)
        {
            if (!userfaultfds.TryGet(pid, out var userfaultfd, out var reason))
            {
                return TrackerVerdict.Unavailable($"no userfaultfd of {name}: {reason}");
            }

            taken.Add(userfaultfd!);
        }

        return new TrackerVerdict(
            true,
            $"uffd-wp: userfaultfd write-protect with PAGEMAP_SCAN in every writer of the guest's RAM: {string.Join(", ", writers.Select(w => w.Name))}",
            writers.Select(w => w.Pid).ToList(),
            DirtyTrackerKind.UserfaultfdWriteProtect)
        {
            Writers = taken,
        };
    }

    private static TrackerVerdict SoftDirtyFor(QemuProcess qemu, List<(int Pid, string Name)> writers)
    {
        if (qemu.Spec.Backing == MemoryBacking.Hugetlbfs)
        {
            return TrackerVerdict.Unavailable("the soft-dirty tracker reads one pagemap entry per 4 KiB page and does not cover hugetlbfs-backed guests");
        }

        foreach (var (pid, name) in writers)
        {
            try
            {
                using (File.OpenHandle($"/proc/{pid}/pagemap", FileMode.Open, FileAccess.Read))
                using (File.OpenHandle($"/proc/{pid}/clear_refs", FileMode.Open, FileAccess.Write))
                {
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return TrackerVerdict.Unavailable($"soft-dirty of {name}, which writes the guest's RAM, cannot be read and cleared: {ex.Message}");
            }
        }

        return new TrackerVerdict(true, $"soft-dirty of every writer of the guest's RAM: {string.Join(", ", writers.Select(w => w.Name))}", writers.Select(w => w.Pid).ToList(), DirtyTrackerKind.SoftDirty);
    }

    /// <summary>Every other process with a mapping of <paramref name="path"/> (the agent's own reads go through pread).</summary>
    private static List<int> MappersOf(string path)
    {
        var pids = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                foreach (var line in File.ReadLines(Path.Combine(directory, "maps")))
                {
                    // start-end perms offset dev inode path; the path is the last field and may hold spaces.
                    var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                    if (fields.Length == 6 && string.Equals(fields[5], path, StringComparison.Ordinal))
                    {
                        pids.Add(pid);
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Exited while we looked, or a kernel thread: it maps nothing of ours.
            }
        }

        return pids;
    }

    private static string CommandName(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/comm").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "process";
        }
    }

    /// <summary>What this host's kernel and build offer: null for a tracker that works, else why not.</summary>
    private sealed record HostTrackers(string? WriteProtect, string? SoftDirty, string Library)
    {
        public static HostTrackers Probe()
        {
            var probes = DirtyTracking.Probe();
            var uffd = probes.First(p => p.Kind == DirtyTrackerKind.UserfaultfdWriteProtect);
            var softDirty = probes.First(p => p.Kind == DirtyTrackerKind.SoftDirty);
            var library = ProcessUserfaultfd.FindPreloadLibrary();
            var writeProtect = !uffd.Available
                ? $"userfaultfd write-protect is unavailable ({uffd.Reason})"
                : library is null
                    ? $"userfaultfd write-protect works, but {ProcessUserfaultfd.PreloadLibraryName} is not beside the agent, so QEMU and ovs-vswitchd get no userfaultfd"
                    : null;
            return new HostTrackers(writeProtect, softDirty.Available ? null : softDirty.Reason, library ?? "");
        }
    }
}
