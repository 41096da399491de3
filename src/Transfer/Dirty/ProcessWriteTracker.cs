using System.Globalization;
using System.Runtime.InteropServices;
using Ferry.Transfer.Interop;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Dirty;

/// <summary>
/// Tracks what several processes write into one RAM file through their own mappings of it: for
/// a QEMU guest, QEMU (its vCPUs under TCG, KVM's guest writes through QEMU's pages, its device
/// models) and ovs-vswitchd (DPDK's vhost library writing received frames and used rings). Page
/// tables are per process, so each writer's mappings are registered for async write-protect
/// through a userfaultfd that writer created (<see cref="ProcessUserfaultfd"/>), scanned with
/// PAGEMAP_SCAN on its pagemap (matching PAGE_IS_WRITTEN and re-arming in the same walk), and the
/// results are joined by file offset. Mappings change under the tracker: DPDK maps a guest's RAM
/// when a port's memory table arrives and may unmap and map it again, even at the same addresses.
/// Each look re-reads the writers' maps; a mapping that appeared is registered, one that vanished
/// (its writes may be lost with it) and one whose registration was lost (the scan answers EPERM)
/// count as written whole until the next collection.
/// </summary>
public sealed unsafe class ProcessWriteTracker : IDirtyTracker
{
    private const int RegionCapacity = 1024;

    private readonly List<Writer> _writers;
    private readonly FileIdentity _file;
    private readonly int _pageSize;
    private readonly long _pageCount;
    private readonly List<PageRange> _pending = [];
    private PageRegion* _regions;

    private ProcessWriteTracker(List<Writer> writers, FileIdentity file, int pageSize, long pageCount)
    {
        _writers = writers;
        _file = file;
        _pageSize = pageSize;
        _pageCount = pageCount;
        _regions = (PageRegion*)NativeMemory.Alloc(RegionCapacity, (nuint)sizeof(PageRegion));
    }

    /// <inheritdoc/>
    public DirtyTrackerKind Kind => DirtyTrackerKind.UserfaultfdWriteProtect;

    /// <summary>Mappings registered so far per process, e.g. "pid 41 (1 mapping), pid 7 (2 mappings)".</summary>
    public string Coverage => string.Join(", ", _writers.Select(w =>
        string.Create(CultureInfo.InvariantCulture, $"pid {w.Userfaultfd.Pid} ({w.Mappings.Count} mapping{(w.Mappings.Count == 1 ? "" : "s")})")));

    /// <summary>
    /// Registers every mapping of <paramref name="memory"/>'s file in each writer and write-protects
    /// it. The userfaultfds stay the caller's: they outlive the tracker, which only unregisters.
    /// </summary>
    /// <param name="writers">One taken userfaultfd per process that maps the RAM file writable.</param>
    /// <param name="memory">The RAM file (this process's mapping gives its identity and page size).</param>
    /// <exception cref="IOException">A writer's maps or pagemap cannot be read, or a mapping cannot be registered.</exception>
    public static ProcessWriteTracker Open(IReadOnlyList<ProcessUserfaultfd> writers, GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(writers);
        ArgumentNullException.ThrowIfNull(memory);
        if (writers.Count == 0)
        {
            throw new ArgumentException("At least one writer must be tracked.", nameof(writers));
        }

        var tracked = new List<Writer>();
        var tracker = new ProcessWriteTracker(tracked, memory.GetIdentity(), memory.PageSize, memory.PageCount);
        try
        {
            foreach (var userfaultfd in writers)
            {
                int fd = Libc.Open($"/proc/{userfaultfd.Pid.ToString(CultureInfo.InvariantCulture)}/pagemap", Libc.ORdOnly | Libc.OCloexec, 0);
                if (fd < 0)
                {
                    NativeError.Throw($"open /proc/{userfaultfd.Pid}/pagemap");
                }

                var writer = new Writer(userfaultfd, new FileDescriptorHandle(fd));
                tracked.Add(writer);
                tracker.Refresh(writer);
            }
        }
        catch
        {
            tracker.Dispose();
            throw;
        }

        // Pages written before registration were never seen: the caller's first pass sends them all.
        tracker._pending.Clear();
        return tracker;
    }

    /// <inheritdoc/>
    public void Reset()
    {
        foreach (var writer in _writers)
        {
            Refresh(writer);
            foreach (var mapping in writer.Mappings.ToList())
            {
                ScanMapping(writer, mapping, null, mapping.Start, mapping.End, clear: true);
            }
        }

        _pending.Clear();
    }

    /// <inheritdoc/>
    public long CollectAndClear(DirtyPageSet dirty) => CollectAndClear(dirty, [new PageRange(0, _pageCount)]);

    /// <inheritdoc/>
    public long CollectAndClear(DirtyPageSet dirty, IReadOnlyList<PageRange> within)
    {
        long reported = Look(dirty, within, clear: true);
        _pending.Clear();
        return reported;
    }

    /// <inheritdoc/>
    public long Peek(DirtyPageSet dirty, IReadOnlyList<PageRange> within) => Look(dirty, within, clear: false);

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var writer in _writers)
        {
            foreach (var mapping in writer.Mappings)
            {
                // The writer may be gone, or its mapping with it: nothing is left to unregister then.
                var range = new UffdioRange { Start = mapping.Start, Length = (ulong)mapping.Length };
                _ = Libc.Ioctl(writer.Userfaultfd.Handle.Fd, KernelAbi.UffdioUnregisterIoctl, &range);
            }

            writer.Mappings.Clear();
            writer.Pagemap.Dispose();
        }

        if (_regions is not null)
        {
            NativeMemory.Free(_regions);
            _regions = null;
        }
    }

    private long Look(DirtyPageSet dirty, IReadOnlyList<PageRange> within, bool clear)
    {
        ArgumentNullException.ThrowIfNull(dirty);
        ArgumentNullException.ThrowIfNull(within);
        ObjectDisposedException.ThrowIf(_regions is null, this);
        long reported = 0;
        foreach (var writer in _writers)
        {
            Refresh(writer);
            foreach (var mapping in writer.Mappings.ToList())
            {
                foreach (var range in within)
                {
                    // The part of the mapping that shows these pages of the file.
                    long first = Math.Max(range.First * _pageSize, mapping.FileOffset);
                    long end = Math.Min(Math.Min(range.End, _pageCount) * _pageSize, mapping.FileOffset + mapping.Length);
                    if (end > first)
                    {
                        reported += ScanMapping(writer, mapping, dirty, mapping.AddressOf(first), mapping.AddressOf(end), clear);
                    }
                }
            }
        }

        foreach (var range in _pending)
        {
            dirty.Add(range);
            reported += range.Count;
        }

        return reported;
    }

    /// <summary>Re-reads the writer's maps: registers new mappings, forgets vanished ones, and counts both as written whole.</summary>
    private void Refresh(Writer writer)
    {
        var current = ProcessMapping.FindAll(writer.Userfaultfd.Pid, _file, out string reason) ?? throw new IOException(reason);
        foreach (var gone in writer.Mappings.Except(current).ToList())
        {
            writer.Mappings.Remove(gone);
            _pending.Add(PagesOf(gone));
        }

        foreach (var added in current.Except(writer.Mappings))
        {
            Register(writer, added);
        }
    }

    private void Register(Writer writer, FileMapping mapping)
    {
        int uffd = writer.Userfaultfd.Handle.Fd;
        var register = new UffdioRegister { Start = mapping.Start, Length = (ulong)mapping.Length, Mode = KernelAbi.RegisterModeWp };
        if (Libc.Ioctl(uffd, KernelAbi.UffdioRegisterIoctl, &register) != 0)
        {
            int errno = Libc.LastError;
            var busy = errno == Libc.Ebusy ? " (another userfaultfd, e.g. QEMU's own for postcopy, has it)" : "";
            throw new IOException(string.Create(CultureInfo.InvariantCulture,
                $"UFFDIO_REGISTER of process {writer.Userfaultfd.Pid}'s mapping 0x{mapping.Start:x}-0x{mapping.End:x} of the RAM file: {Libc.Describe(errno)}{busy}"), errno);
        }

        var protect = new UffdioWriteProtect { Start = mapping.Start, Length = (ulong)mapping.Length, Mode = KernelAbi.WriteProtectModeWp };
        if (Libc.Ioctl(uffd, KernelAbi.UffdioWriteProtectIoctl, &protect) != 0)
        {
            NativeError.Throw(string.Create(CultureInfo.InvariantCulture, $"UFFDIO_WRITEPROTECT of process {writer.Userfaultfd.Pid}'s mapping 0x{mapping.Start:x}"));
        }

        writer.Mappings.Add(mapping);
        _pending.Add(PagesOf(mapping));
    }

    private long ScanMapping(Writer writer, FileMapping mapping, DirtyPageSet? dirty, ulong start, ulong end, bool clear)
    {
        var arg = PmScanArg.WrittenPages(start, end, _regions, RegionCapacity, clear);

        long reported = 0;
        while (true)
        {
            int count = Libc.Ioctl(writer.Pagemap.Fd, KernelAbi.PagemapScanIoctl, &arg);
            if (count < 0)
            {
                int errno = Libc.LastError;
                if (errno == Libc.Eintr)
                {
                    continue;
                }

                if (errno == Libc.Eperm)
                {
                    // The range is no longer registered for async write-protect: the mapping was replaced
                    // (DPDK may map anew at the same addresses). It counts as written whole; whatever the
                    // maps show now is registered again.
                    writer.Mappings.Remove(mapping);
                    _pending.Add(PagesOf(mapping));
                    Refresh(writer);
                    return reported;
                }

                NativeError.Throw(string.Create(CultureInfo.InvariantCulture, $"PAGEMAP_SCAN of process {writer.Userfaultfd.Pid}"), errno);
            }

            for (int i = 0; i < count; i++)
            {
                var pages = PagesOf(mapping.FileOffsetOf(_regions[i].Start), mapping.FileOffsetOf(_regions[i].End));
                reported += pages.Count;
                dirty?.Add(pages);
            }

            // A full output vector stops the walk early; continue where the kernel stopped.
            if (arg.WalkEnd >= end)
            {
                return reported;
            }

            if (arg.WalkEnd <= arg.Start)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture, $"PAGEMAP_SCAN made no progress at 0x{arg.Start:x}."));
            }

            arg.Start = arg.WalkEnd;
        }
    }

    private PageRange PagesOf(FileMapping mapping) => PagesOf(mapping.FileOffset, mapping.FileOffset + mapping.Length);

    /// <summary>The RAM pages that file bytes [<paramref name="start"/>, <paramref name="end"/>) touch, clipped to the RAM.</summary>
    private PageRange PagesOf(long start, long end)
    {
        long first = Math.Min(start / _pageSize, _pageCount);
        long last = Math.Min((end + _pageSize - 1) / _pageSize, _pageCount);
        return new PageRange(first, Math.Max(0, last - first));
    }

    private sealed record Writer(ProcessUserfaultfd Userfaultfd, FileDescriptorHandle Pagemap)
    {
        public List<FileMapping> Mappings { get; } = [];
    }
}
