using System.Globalization;
using Ferry.Transfer.Interop;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Dirty;

/// <summary>
/// Ferry's one dirty-tracker probe, answering with <see cref="TrackerVerdict"/>s: which kernel mechanisms work
/// here (<see cref="Kernel"/>, what the agent's inventory reports), whether one can track guests whose RAM other
/// processes write (<see cref="ForHost"/>), and whether it covers every writer of one guest's RAM
/// (<see cref="ForWriters"/>). Page-table tracking is per process: every process that writes the RAM file must
/// be tracked, through a userfaultfd created inside it by <see cref="ProcessUserfaultfd.PreloadLibraryName"/>
/// or through its soft-dirty bits.
/// </summary>
public static unsafe class DirtyTrackerProbe
{
    /// <summary>
    /// Exercises each kernel mechanism on a scratch mapping in this process; one counts as available only when it
    /// reported exactly one known write. Userfaultfd write-protect first, then soft-dirty.
    /// </summary>
    public static IReadOnlyList<TrackerVerdict> Kernel() => [ProbeWriteProtect(), ProbeSoftDirty()];

    /// <summary>
    /// Whether a tracker works for guests on this host, before their processes are known: write-protect needs the
    /// kernel's support and the preload library beside this assembly (QEMU and ovs-vswitchd get their userfaultfd
    /// from it); else soft-dirty.
    /// </summary>
    public static TrackerVerdict ForHost()
    {
        var probes = Kernel();
        var uffd = probes.First(p => p.Kind == DirtyTrackerKind.UserfaultfdWriteProtect);
        var softDirty = probes.First(p => p.Kind == DirtyTrackerKind.SoftDirty);
        var library = ProcessUserfaultfd.FindPreloadLibrary();
        var writeProtect = !uffd.Available
            ? $"userfaultfd write-protect is unavailable ({uffd.Reason})"
            : library is null
                ? $"userfaultfd write-protect works, but {ProcessUserfaultfd.PreloadLibraryName} is not beside the agent, so QEMU and ovs-vswitchd get no userfaultfd"
                : null;
        if (writeProtect is null)
        {
            return new TrackerVerdict(true, $"userfaultfd write-protect works here ({library}), with a userfaultfd created in QEMU and ovs-vswitchd", [], DirtyTrackerKind.UserfaultfdWriteProtect);
        }

        return softDirty.Available
            ? new TrackerVerdict(true, $"soft-dirty works here ({writeProtect})", [], DirtyTrackerKind.SoftDirty)
            : TrackerVerdict.Unavailable($"no dirty tracker covers QEMU guests on this host: {writeProtect}; soft-dirty is unavailable too ({softDirty.Reason})");
    }

    /// <summary>
    /// Whether the tracker <paramref name="host"/> found covers every one of <paramref name="writers"/>: for
    /// write-protect, each has a userfaultfd <paramref name="userfaultfds"/> can find; for soft-dirty, each one's
    /// pagemap and clear_refs open, and the RAM is not on hugetlbfs (soft-dirty reads one entry per 4 KiB page).
    /// </summary>
    /// <param name="host">What <see cref="ForHost"/> said; returned as it is when no tracker works.</param>
    /// <param name="writers">Every process that writes the guest's RAM, with the name the verdict gives it.</param>
    /// <param name="hugetlbfs">The RAM file is on hugetlbfs.</param>
    /// <param name="userfaultfds">Finds the userfaultfd of a writer.</param>
    public static TrackerVerdict ForWriters(TrackerVerdict host, IReadOnlyList<(int Pid, string Name)> writers, bool hugetlbfs, UserfaultfdLookup userfaultfds)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(writers);
        ArgumentNullException.ThrowIfNull(userfaultfds);
        if (!host.Available)
        {
            return host;
        }

        return host.Kind == DirtyTrackerKind.UserfaultfdWriteProtect ? WriteProtectFor(writers, userfaultfds) : SoftDirtyFor(writers, hugetlbfs);
    }

    /// <summary>
    /// A process other than <paramref name="known"/> (and this one, whose reads go through pread) with a mapping of
    /// <paramref name="path"/>, with its command name: a writer nobody tracks. Null when there is none.
    /// </summary>
    /// <param name="path">The RAM file.</param>
    /// <param name="known">The processes that are tracked, or known not to write.</param>
    public static (int Pid, string Command)? FindUntrackedMapper(string path, IReadOnlyCollection<int> known)
    {
        ArgumentNullException.ThrowIfNull(known);
        foreach (var pid in MappersOf(path).Where(p => !known.Contains(p)))
        {
            return (pid, CommandName(pid));
        }

        return null;
    }

    private static TrackerVerdict WriteProtectFor(IReadOnlyList<(int Pid, string Name)> writers, UserfaultfdLookup userfaultfds)
    {
        var taken = new List<ProcessUserfaultfd>();
        foreach (var (pid, name) in writers)
        {
            if (!userfaultfds(pid, out var userfaultfd, out var reason))
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

    private static TrackerVerdict SoftDirtyFor(IReadOnlyList<(int Pid, string Name)> writers, bool hugetlbfs)
    {
        if (hugetlbfs)
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

    /// <summary>Every other process with a mapping of <paramref name="path"/>.</summary>
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

    /// <summary>
    /// userfaultfd in async write-protect mode plus PAGEMAP_SCAN (Linux 6.7+): a scratch memfd (shmem, where guest
    /// RAM lives) registered for write-protect must report exactly the one page written, then nothing once cleared.
    /// </summary>
    private static TrackerVerdict ProbeWriteProtect()
    {
        const DirtyTrackerKind Kind = DirtyTrackerKind.UserfaultfdWriteProtect;
        try
        {
            using var scratch = GuestMemory.CreateMemfd("ferry-probe-uffd", 16L * Environment.SystemPageSize);
            if (!WriteProtectRegistration.TryRegister(scratch.Pointer, scratch.Size, out var registration, out string reason))
            {
                return new TrackerVerdict(false, reason, [], Kind);
            }

            using (registration)
            {
                using var tracker = new WrittenPageTracker(Environment.ProcessId, (ulong)scratch.Pointer, scratch.Size, scratch.PageSize);
                var dirty = new DirtyPageSet(scratch.PageCount);
                tracker.Reset();
                scratch.GetPage(3)[1] = 1;
                tracker.CollectAndClear(dirty);
                var ranges = dirty.ToRanges();
                if (ranges is not [{ First: 3, Count: 1 }])
                {
                    return new TrackerVerdict(false, $"PAGEMAP_SCAN reported {string.Join(",", ranges)} after a write to page 3 only", [], Kind);
                }

                dirty.Clear();
                tracker.CollectAndClear(dirty);
                if (dirty.Count != 0)
                {
                    return new TrackerVerdict(false, "PAGEMAP_SCAN did not clear the written bit", [], Kind);
                }
            }

            return new TrackerVerdict(true, "userfaultfd WP_ASYNC and PAGEMAP_SCAN reported exactly one known write", [], Kind);
        }
        catch (IOException e)
        {
            return new TrackerVerdict(false, e.Message, [], Kind);
        }
    }

    /// <summary>
    /// Soft-dirty (CONFIG_MEM_SOFT_DIRTY): of two faulted-in pages, only the one written after <c>clear_refs=4</c>
    /// may carry pagemap bit 55. Without the option the bit is never set; checking the unwritten page too catches
    /// a kernel that sets it on everything (the agent's inventory probe did that check; kept here).
    /// </summary>
    private static TrackerVerdict ProbeSoftDirty()
    {
        const DirtyTrackerKind Kind = DirtyTrackerKind.SoftDirty;
        try
        {
            using var scratch = GuestMemory.CreateMemfd("ferry-probe-softdirty", 4L * Environment.SystemPageSize);
            scratch.GetPage(0)[0] = 1; // fault both pages in before clearing
            scratch.GetPage(1)[0] = 1;
            File.WriteAllText("/proc/self/clear_refs", "4");
            scratch.GetPage(0)[0] = 2;

            int fd = Libc.Open("/proc/self/pagemap", Libc.ORdOnly | Libc.OCloexec, 0);
            if (fd < 0)
            {
                return new TrackerVerdict(false, $"open /proc/self/pagemap: {Libc.Describe(Libc.LastError)}", [], Kind);
            }

            using var pagemap = new FileDescriptorHandle(fd);
            var entries = stackalloc ulong[2];
            long offset = (long)((ulong)scratch.Pointer / (ulong)Environment.SystemPageSize) * 8;
            if (Libc.Pread(pagemap.Fd, entries, 16, offset) != 16)
            {
                return new TrackerVerdict(false, $"read /proc/self/pagemap: {Libc.Describe(Libc.LastError)}", [], Kind);
            }

            return ((entries[0] & KernelAbi.PagemapSoftDirty) != 0, (entries[1] & KernelAbi.PagemapSoftDirty) != 0) switch
            {
                (false, _) => new TrackerVerdict(false,
                    "pagemap bit 55 stayed clear after a write following clear_refs=4: this kernel is built without CONFIG_MEM_SOFT_DIRTY", [], Kind),
                (true, true) => new TrackerVerdict(false, "clear_refs=4 did not clear pagemap bit 55 on an unwritten page", [], Kind),
                (true, false) => new TrackerVerdict(true, "clear_refs=4 then a write set pagemap bit 55 on exactly the written page", [], Kind),
            };
        }
        catch (IOException e)
        {
            return new TrackerVerdict(false, e.Message, [], Kind);
        }
        catch (UnauthorizedAccessException e)
        {
            return new TrackerVerdict(false, e.Message, [], Kind);
        }
    }
}
