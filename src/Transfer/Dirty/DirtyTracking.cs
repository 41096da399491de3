using Ferry.Transfer.Interop;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Dirty;

/// <summary>
/// Chooses a dirty tracker by probing: each mechanism is exercised on a scratch mapping in this
/// process and must report exactly one known write before it counts as available.
/// </summary>
public static unsafe class DirtyTracking
{
    /// <summary>Probes every tracker and says which work here and why the others do not.</summary>
    public static IReadOnlyList<TrackerAvailability> Probe() => [ProbeWriteProtect(), ProbeSoftDirty()];

    /// <summary>
    /// Opens a tracker for the pages process <paramref name="pid"/> writes to its mapping of
    /// <paramref name="memory"/>'s file. The process must have registered that mapping with
    /// <see cref="WriteProtectRegistration"/>.
    /// </summary>
    /// <param name="pid">The writing process.</param>
    /// <param name="memory">The RAM file (mapped here too, to learn its identity).</param>
    /// <param name="tracker">The tracker, when one works.</param>
    /// <param name="report">What was probed and found.</param>
    public static bool TryOpen(int pid, GuestMemory memory, out IDirtyTracker? tracker, out IReadOnlyList<TrackerAvailability> report)
    {
        ArgumentNullException.ThrowIfNull(memory);
        tracker = null;
        report = Probe();
        if (!report[0].Available)
        {
            return false;
        }

        var mapping = ProcessMapping.Find(pid, memory.GetIdentity(), memory.Size, out string reason);
        if (mapping is null)
        {
            report = [report[0] with { Available = false, Reason = reason }, report[1]];
            return false;
        }

        tracker = new WrittenPageTracker(pid, mapping.Value.Start, mapping.Value.Length, memory.PageSize);
        return true;
    }

    /// <summary>Opens the write-protect tracker without probing (callers that probed already).</summary>
    /// <param name="pid">The writing process.</param>
    /// <param name="memory">The RAM file.</param>
    public static IDirtyTracker OpenWrittenPageTracker(int pid, GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        var mapping = ProcessMapping.Find(pid, memory.GetIdentity(), memory.Size, out string reason)
            ?? throw new InvalidOperationException(reason);
        return new WrittenPageTracker(pid, mapping.Start, mapping.Length, memory.PageSize);
    }

    private static TrackerAvailability ProbeWriteProtect()
    {
        const DirtyTrackerKind Kind = DirtyTrackerKind.UserfaultfdWriteProtect;
        try
        {
            using var scratch = GuestMemory.CreateMemfd("ferry-probe-uffd", 16L * Environment.SystemPageSize);
            if (!WriteProtectRegistration.TryRegister(scratch.Pointer, scratch.Size, out var registration, out string reason))
            {
                return new TrackerAvailability(Kind, false, reason);
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
                    return new TrackerAvailability(Kind, false, $"PAGEMAP_SCAN reported {string.Join(",", ranges)} after a write to page 3 only");
                }

                dirty.Clear();
                tracker.CollectAndClear(dirty);
                if (dirty.Count != 0)
                {
                    return new TrackerAvailability(Kind, false, "PAGEMAP_SCAN did not clear the written bit");
                }
            }

            return new TrackerAvailability(Kind, true, "userfaultfd WP_ASYNC and PAGEMAP_SCAN reported exactly one known write");
        }
        catch (IOException e)
        {
            return new TrackerAvailability(Kind, false, e.Message);
        }
    }

    private static TrackerAvailability ProbeSoftDirty()
    {
        const DirtyTrackerKind Kind = DirtyTrackerKind.SoftDirty;
        try
        {
            using var scratch = GuestMemory.CreateMemfd("ferry-probe-softdirty", 4L * Environment.SystemPageSize);
            scratch.GetPage(0)[0] = 1; // fault the page in before clearing
            File.WriteAllText("/proc/self/clear_refs", "4");
            scratch.GetPage(0)[0] = 2;

            int fd = Libc.Open("/proc/self/pagemap", Libc.ORdOnly | Libc.OCloexec, 0);
            if (fd < 0)
            {
                return new TrackerAvailability(Kind, false, $"open /proc/self/pagemap: {Libc.Describe(Libc.LastError)}");
            }

            using var pagemap = new FileDescriptorHandle(fd);
            ulong entry;
            long offset = (long)((ulong)scratch.Pointer / (ulong)Environment.SystemPageSize) * 8;
            if (Libc.Pread(pagemap.Fd, &entry, 8, offset) != 8)
            {
                return new TrackerAvailability(Kind, false, $"read /proc/self/pagemap: {Libc.Describe(Libc.LastError)}");
            }

            if ((entry & KernelAbi.PagemapSoftDirty) == 0)
            {
                return new TrackerAvailability(Kind, false,
                    "pagemap bit 55 stayed clear after a write following clear_refs=4: this kernel is built without CONFIG_MEM_SOFT_DIRTY");
            }

            return new TrackerAvailability(Kind, true, "clear_refs=4 then a write set pagemap bit 55");
        }
        catch (IOException e)
        {
            return new TrackerAvailability(Kind, false, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            return new TrackerAvailability(Kind, false, e.Message);
        }
    }
}
