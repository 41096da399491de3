using System.Globalization;
using Ferry.Agent.Qemu;
using Ferry.Transfer.Dirty;

namespace Ferry.Agent.Migration.Native;

/// <summary>
/// For QEMU guests only soft-dirty can work: userfaultfd write-protect reports only writes of a
/// process that registered its own memory with it, and QEMU does not. Soft-dirty sees any
/// process's writes, so it must be readable for every process that maps the RAM file (QEMU, and
/// ovs-vswitchd when the guest has vhost-user ports), which are found in /proc/*/maps.
/// </summary>
internal sealed class NativeTrackerProbe : INativeTrackerProbe
{
    private readonly Lazy<TrackerVerdict> _host = new(ProbeHost);

    public TrackerVerdict ForHost() => _host.Value;

    public TrackerVerdict ForGuest(QemuProcess qemu)
    {
        ArgumentNullException.ThrowIfNull(qemu);
        var host = ForHost();
        if (!host.Available)
        {
            return host;
        }

        if (qemu.Spec.Backing == MemoryBacking.Hugetlbfs)
        {
            return TrackerVerdict.Unavailable("the soft-dirty tracker reads one pagemap entry per 4 KiB page and does not cover hugetlbfs-backed guests");
        }

        var mappers = MappersOf(qemu.Layout.RamFile);
        if (!mappers.Contains(qemu.Pid))
        {
            return TrackerVerdict.Unavailable(string.Create(CultureInfo.InvariantCulture, $"QEMU (pid {qemu.Pid}) does not map its RAM file {qemu.Layout.RamFile}"));
        }

        var names = new List<string>();
        foreach (var pid in mappers)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{CommandName(pid)} (pid {pid})");
            try
            {
                using (File.OpenHandle($"/proc/{pid}/pagemap", FileMode.Open, FileAccess.Read))
                using (File.OpenHandle($"/proc/{pid}/clear_refs", FileMode.Open, FileAccess.Write))
                {
                    names.Add(name);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return TrackerVerdict.Unavailable($"soft-dirty of {name}, which maps the guest's RAM, cannot be read and cleared: {ex.Message}");
            }
        }

        return new TrackerVerdict(true, $"soft-dirty covers every process that maps the guest's RAM: {string.Join(", ", names)}", mappers);
    }

    private static TrackerVerdict ProbeHost()
    {
        var probes = DirtyTracking.Probe();
        var softDirty = probes.First(p => p.Kind == DirtyTrackerKind.SoftDirty);
        if (softDirty.Available)
        {
            return new TrackerVerdict(true, $"soft-dirty works on this kernel: {softDirty.Reason}", []);
        }

        var uffd = probes.First(p => p.Kind == DirtyTrackerKind.UserfaultfdWriteProtect);
        var uffdNote = uffd.Available
            ? "userfaultfd write-protect works here but only sees writes of a process that registered its own RAM with it, which QEMU does not"
            : $"userfaultfd write-protect is unavailable too ({uffd.Reason}) and would need QEMU's cooperation anyway";
        return TrackerVerdict.Unavailable($"no dirty tracker covers QEMU guests on this kernel: soft-dirty is unavailable ({softDirty.Reason}); {uffdNote}");
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
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "process";
        }
    }
}
