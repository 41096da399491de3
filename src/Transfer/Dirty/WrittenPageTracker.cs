using System.Runtime.InteropServices;
using Ferry.Transfer.Interop;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Dirty;

/// <summary>
/// Reads the pages another process wrote into its mapping of the RAM file with PAGEMAP_SCAN on
/// its /proc/&lt;pid&gt;/pagemap. Each scan matches PAGE_IS_WRITTEN and write-protects the
/// matched pages again in the same walk (get-and-clear), so no write falls between reading and
/// re-arming. PM_SCAN_CHECK_WPASYNC makes the scan fail if the process has not registered the
/// range with async write-protect, instead of silently reporting nothing.
/// </summary>
internal sealed unsafe class WrittenPageTracker : IDirtyTracker
{
    private const int RegionCapacity = 1024;

    private readonly FileDescriptorHandle _pagemap;
    private readonly ulong _start;
    private readonly long _length;
    private readonly int _pageSize;
    private PageRegion* _regions;

    public WrittenPageTracker(int pid, ulong start, long length, int pageSize)
    {
        int fd = Libc.Open($"/proc/{pid}/pagemap", Libc.ORdOnly | Libc.OCloexec, 0);
        if (fd < 0)
        {
            NativeError.Throw($"open /proc/{pid}/pagemap");
        }

        _pagemap = new FileDescriptorHandle(fd);
        _start = start;
        _length = length;
        _pageSize = pageSize;
        _regions = (PageRegion*)NativeMemory.Alloc(RegionCapacity, (nuint)sizeof(PageRegion));
    }

    public DirtyTrackerKind Kind => DirtyTrackerKind.UserfaultfdWriteProtect;

    public void Reset() => Scan(null, _start, _start + (ulong)_length);

    public long CollectAndClear(DirtyPageSet dirty)
    {
        ArgumentNullException.ThrowIfNull(dirty);
        return Scan(dirty, _start, _start + (ulong)_length);
    }

    public long CollectAndClear(DirtyPageSet dirty, IReadOnlyList<PageRange> within) => ScanWithin(dirty, within, clear: true);

    public long Peek(DirtyPageSet dirty, IReadOnlyList<PageRange> within) => ScanWithin(dirty, within, clear: false);

    private long ScanWithin(DirtyPageSet dirty, IReadOnlyList<PageRange> within, bool clear)
    {
        ArgumentNullException.ThrowIfNull(dirty);
        ArgumentNullException.ThrowIfNull(within);
        long pages = _length / _pageSize, reported = 0;
        foreach (var range in within)
        {
            long first = Math.Clamp(range.First, 0, pages), end = Math.Clamp(range.End, 0, pages);
            if (end > first)
            {
                reported += Scan(dirty, _start + (ulong)(first * _pageSize), _start + (ulong)(end * _pageSize), clear);
            }
        }

        return reported;
    }

    public void Dispose()
    {
        _pagemap.Dispose();
        if (_regions is not null)
        {
            NativeMemory.Free(_regions);
            _regions = null;
        }
    }

    private long Scan(DirtyPageSet? dirty, ulong start, ulong end, bool clear = true)
    {
        ObjectDisposedException.ThrowIf(_regions is null, this);
        var arg = PmScanArg.WrittenPages(start, end, _regions, RegionCapacity, clear);

        long reported = 0;
        while (true)
        {
            int count = Libc.Ioctl(_pagemap.Fd, KernelAbi.PagemapScanIoctl, &arg);
            if (count < 0)
            {
                int errno = Libc.LastError;
                if (errno == Libc.Eintr)
                {
                    continue;
                }

                NativeError.Throw("PAGEMAP_SCAN", errno);
            }

            for (int i = 0; i < count; i++)
            {
                long first = (long)(_regions[i].Start - _start) / _pageSize;
                long last = ((long)(_regions[i].End - _start) + _pageSize - 1) / _pageSize;
                reported += last - first;
                dirty?.Add(new PageRange(first, last - first));
            }

            // A full output vector stops the walk early; continue where the kernel stopped.
            if (arg.WalkEnd >= end)
            {
                return reported;
            }

            if (arg.WalkEnd <= arg.Start)
            {
                throw new IOException($"PAGEMAP_SCAN made no progress at 0x{arg.Start:x}.");
            }

            arg.Start = arg.WalkEnd;
        }
    }
}
