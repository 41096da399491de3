using System.Diagnostics.CodeAnalysis;
using Ferry.Transfer.Interop;

namespace Ferry.Transfer.Memory;

/// <summary>
/// A guest's RAM file (memfd, tmpfs or hugetlbfs) mapped shared into this process. All
/// offsets are 64-bit: guests of 8 GiB and more are normal. The mapping sits between
/// inaccessible guard regions, so a bug that strays past either end faults instead of
/// silently corrupting a neighbouring allocation.
/// </summary>
public sealed unsafe class GuestMemory : IDisposable
{
    // 2 MiB keeps the file mapping aligned for hugetlbfs and is only address space.
    private const long GuardBytes = 2 * 1024 * 1024;

    private readonly FileDescriptorHandle _fd;
    private readonly MappedRegionHandle _reservation;
    private readonly byte* _base;
    private volatile bool _copyIntoMapping;

    private GuestMemory(FileDescriptorHandle fd, long size, int pageSize, string path)
    {
        _fd = fd;
        Size = size;
        PageSize = pageSize;
        PageCount = size / pageSize;
        FilePath = path;

        nuint reservationLength = (nuint)(size + 3 * GuardBytes);
        nint reservation = Libc.Mmap(0, reservationLength, Libc.ProtNone,
            Libc.MapPrivate | Libc.MapAnonymous | Libc.MapNoReserve, -1, 0);
        if (reservation == -1)
        {
            NativeError.Throw("mmap (reservation)");
        }

        _reservation = new MappedRegionHandle(reservation, reservationLength);
        nint aligned = (nint)(((long)reservation + 2 * GuardBytes - 1) & ~(GuardBytes - 1));
        nint mapped = Libc.Mmap(aligned, (nuint)size, Libc.ProtRead | Libc.ProtWrite,
            Libc.MapShared | Libc.MapFixed, fd.Fd, 0);
        if (mapped != aligned)
        {
            int errno = Libc.LastError;
            _reservation.Dispose();
            NativeError.Throw("mmap (RAM file)", errno);
        }

        _base = (byte*)mapped;
    }

    /// <summary>Size of the RAM in bytes.</summary>
    public long Size { get; }

    /// <summary>Transfer and tracking granularity in bytes (the base page size for memfd/tmpfs).</summary>
    public int PageSize { get; }

    /// <summary>Number of pages of <see cref="PageSize"/>.</summary>
    public long PageCount { get; }

    /// <summary>
    /// A path another process can open to map the same file. For a memfd this is
    /// <c>/proc/&lt;pid&gt;/fd/&lt;fd&gt;</c>, valid while this object lives.
    /// </summary>
    public string FilePath { get; }

    /// <summary>Start of the shared mapping.</summary>
    public byte* Pointer => _base;

    /// <summary>The raw file descriptor, for ioctls and fallocate; valid while this object lives.</summary>
    internal int FileDescriptor => _fd.Fd;

    /// <summary>Creates anonymous guest RAM in a memfd (never-written pages stay holes).</summary>
    /// <param name="name">Name shown in /proc/&lt;pid&gt;/maps.</param>
    /// <param name="size">Size in bytes, a multiple of <paramref name="pageSize"/>.</param>
    /// <param name="pageSize">Page size; 0 means the system page size.</param>
    public static GuestMemory CreateMemfd(string name, long size, int pageSize = 0)
    {
        pageSize = ResolvePageSize(pageSize);
        ValidateSize(size, pageSize);
        int fd = Libc.MemfdCreate(name, Libc.MfdCloexec);
        if (fd < 0)
        {
            NativeError.Throw("memfd_create");
        }

        var handle = new FileDescriptorHandle(fd);
        return Finish(handle, size, pageSize, $"/proc/{Environment.ProcessId}/fd/{fd}");
    }

    /// <summary>Creates (or truncates to a hole-only file) a RAM file on tmpfs or hugetlbfs.</summary>
    /// <param name="path">File path, e.g. under /dev/shm or /dev/hugepages.</param>
    /// <param name="size">Size in bytes, a multiple of <paramref name="pageSize"/>.</param>
    /// <param name="pageSize">Page size; 0 means the system page size, use 2 MiB for hugetlbfs.</param>
    public static GuestMemory Create(string path, long size, int pageSize = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        pageSize = ResolvePageSize(pageSize);
        ValidateSize(size, pageSize);
        var handle = OpenDescriptor(path, Libc.ORdWr | Libc.OCreat | Libc.OCloexec);
        if (Libc.Ftruncate(handle.Fd, 0) != 0)
        {
            int errno = Libc.LastError;
            handle.Dispose();
            NativeError.Throw("ftruncate", errno);
        }

        return Finish(handle, size, pageSize, path);
    }

    /// <summary>Maps an existing RAM file with its current size.</summary>
    /// <param name="path">File path.</param>
    /// <param name="pageSize">Page size; 0 means the system page size.</param>
    public static GuestMemory Open(string path, int pageSize = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        pageSize = ResolvePageSize(pageSize);
        var handle = OpenDescriptor(path, Libc.ORdWr | Libc.OCloexec);
        long size = Libc.Lseek(handle.Fd, 0, Libc.SeekEnd);
        if (size < 0 || size % pageSize != 0 || size == 0)
        {
            int errno = Libc.LastError;
            handle.Dispose();
            if (size < 0)
            {
                NativeError.Throw("lseek(SEEK_END)", errno);
            }

            throw new InvalidDataException($"RAM file '{path}' is {size} bytes, not a positive multiple of {pageSize}.");
        }

        var memory = new GuestMemory(handle, size, pageSize, path);
        return memory;
    }

    /// <summary>The bytes of one page.</summary>
    /// <param name="pageIndex">Page index, below <see cref="PageCount"/>.</param>
    public Span<byte> GetPage(long pageIndex)
    {
        if ((ulong)pageIndex >= (ulong)PageCount)
        {
            ThrowPageOutOfRange(pageIndex);
        }

        return new Span<byte>(_base + pageIndex * PageSize, PageSize);
    }

    /// <summary>Pointer to the first byte of a page, bounds-checked.</summary>
    /// <param name="pageIndex">Page index, below <see cref="PageCount"/>.</param>
    public byte* GetPagePointer(long pageIndex)
    {
        if ((ulong)pageIndex >= (ulong)PageCount)
        {
            ThrowPageOutOfRange(pageIndex);
        }

        return _base + pageIndex * PageSize;
    }

    /// <summary>
    /// Copies whole pages out of the RAM file with pread. The engine reads guest RAM this way
    /// rather than through its mapping: no page faults in this process (each costs microseconds,
    /// far more under nested virtualisation) and no page-table churn.
    /// </summary>
    /// <param name="firstPage">First page to read.</param>
    /// <param name="destination">A multiple of <see cref="PageSize"/> bytes.</param>
    public void ReadPages(long firstPage, Span<byte> destination)
    {
        long offset = CheckedOffset(firstPage, destination.Length);
        fixed (byte* p = destination)
        {
            long done = 0;
            while (done < destination.Length)
            {
                nint n = Libc.Pread(_fd.Fd, p + done, (nuint)(destination.Length - done), offset + done);
                if (n <= 0)
                {
                    int errno = Libc.LastError;
                    if (n < 0 && errno == Libc.Eintr)
                    {
                        continue;
                    }

                    NativeError.Throw("pread (RAM file)", n == 0 ? Libc.Enxio : errno);
                }

                done += n;
            }
        }
    }

    /// <summary>
    /// Writes whole pages into the RAM file with pwrite (visible at once through every shared
    /// mapping). Bounds are checked first: a pwrite past the end would grow the file. hugetlbfs
    /// has no write(), so there the pages are copied into the mapping instead.
    /// </summary>
    /// <param name="firstPage">First page to write.</param>
    /// <param name="source">A multiple of <see cref="PageSize"/> bytes.</param>
    public void WritePages(long firstPage, ReadOnlySpan<byte> source)
    {
        long offset = CheckedOffset(firstPage, source.Length);
        if (_copyIntoMapping)
        {
            source.CopyTo(new Span<byte>(_base + offset, source.Length));
            return;
        }

        fixed (byte* p = source)
        {
            long done = 0;
            while (done < source.Length)
            {
                nint n = Libc.Pwrite(_fd.Fd, p + done, (nuint)(source.Length - done), offset + done);
                if (n <= 0)
                {
                    int errno = Libc.LastError;
                    if (n < 0 && errno == Libc.Eintr)
                    {
                        continue;
                    }

                    if (n < 0 && errno == Libc.Einval && done == 0)
                    {
                        _copyIntoMapping = true;
                        source.CopyTo(new Span<byte>(_base + offset, source.Length));
                        return;
                    }

                    NativeError.Throw("pwrite (RAM file)", errno);
                }

                done += n;
            }
        }
    }

    /// <summary>The RAM file's current length in bytes (it never changes after creation).</summary>
    public long FileLength
    {
        get
        {
            long length = Libc.Lseek(_fd.Fd, 0, Libc.SeekEnd);
            if (length < 0)
            {
                NativeError.Throw("lseek(SEEK_END)");
            }

            return length;
        }
    }

    /// <summary>
    /// Page ranges that hold file data. Everything else was never allocated (a hole) and reads
    /// as zero, so it can be sent as a zero range without reading it. Skipping is also what
    /// keeps the source's footprint flat: on tmpfs a read fault on a hole allocates a page.
    /// hugetlbfs does not implement SEEK_HOLE and reports the whole file as data; there every
    /// page is read (pread returns zeros for holes without allocating) and zero pages are found
    /// by the scan instead.
    /// </summary>
    public List<PageRange> GetAllocatedRanges()
    {
        var ranges = new List<PageRange>();
        long offset = 0;
        while (offset < Size)
        {
            long data = Libc.Lseek(_fd.Fd, offset, Libc.SeekData);
            if (data < 0)
            {
                int errno = Libc.LastError;
                if (errno == Libc.Enxio)
                {
                    break; // no data after offset
                }

                NativeError.Throw("lseek(SEEK_DATA)", errno);
            }

            long hole = Libc.Lseek(_fd.Fd, data, Libc.SeekHole);
            if (hole < 0)
            {
                NativeError.Throw("lseek(SEEK_HOLE)");
            }

            hole = Math.Min(hole, Size);
            long first = data / PageSize;
            long end = (hole + PageSize - 1) / PageSize;
            if (ranges.Count > 0 && ranges[^1].End >= first)
            {
                var last = ranges[^1];
                ranges[^1] = last with { Count = Math.Max(last.End, end) - last.First };
            }
            else
            {
                ranges.Add(new PageRange(first, end - first));
            }

            offset = hole;
        }

        return ranges;
    }

    /// <summary>
    /// Makes a range of pages read as zero, releasing their memory where the file system can
    /// punch holes (tmpfs, hugetlbfs), and clearing them otherwise.
    /// </summary>
    /// <param name="range">Pages to zero; must lie inside the RAM.</param>
    public void ZeroPages(PageRange range)
    {
        if (range.First < 0 || range.Count < 0 || range.First > PageCount || range.Count > PageCount - range.First)
        {
            ThrowRangeOutOfRange(range);
        }

        if (range.Count == 0)
        {
            return;
        }

        if (Libc.Fallocate(_fd.Fd, Libc.FallocFlPunchHole | Libc.FallocFlKeepSize,
                range.First * PageSize, range.Count * PageSize) == 0)
        {
            return;
        }

        byte* p = _base + range.First * PageSize;
        long remaining = range.Count * PageSize;
        while (remaining > 0)
        {
            int chunk = (int)Math.Min(remaining, 1 << 30);
            new Span<byte>(p, chunk).Clear();
            p += chunk;
            remaining -= chunk;
        }
    }

    /// <summary>Device and inode of the RAM file, used to find its mapping in another process.</summary>
    internal FileIdentity GetIdentity()
    {
        // struct stat on x86_64/aarch64 starts with dev_t st_dev (u64) and ino_t st_ino (u64).
        byte* stat = stackalloc byte[256];
        if (Libc.Fstat(_fd.Fd, stat) != 0)
        {
            NativeError.Throw("fstat");
        }

        ulong dev = *(ulong*)stat;
        ulong ino = *(ulong*)(stat + 8);
        uint major = (uint)(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffUL));
        uint minor = (uint)((dev & 0xff) | ((dev >> 12) & ~0xffUL));
        return new FileIdentity(major, minor, ino);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _reservation.Dispose();
        _fd.Dispose();
    }

    private static GuestMemory Finish(FileDescriptorHandle handle, long size, int pageSize, string path)
    {
        if (Libc.Ftruncate(handle.Fd, size) != 0)
        {
            int errno = Libc.LastError;
            handle.Dispose();
            NativeError.Throw("ftruncate", errno);
        }

        try
        {
            return new GuestMemory(handle, size, pageSize, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static FileDescriptorHandle OpenDescriptor(string path, int flags)
    {
        int fd = Libc.Open(path, flags, 0x180); // 0600: guest RAM is nobody else's business
        if (fd < 0)
        {
            NativeError.Throw($"open '{path}'");
        }

        return new FileDescriptorHandle(fd);
    }

    private static int ResolvePageSize(int pageSize)
    {
        pageSize = pageSize == 0 ? Environment.SystemPageSize : pageSize;
        if (pageSize < 4096 || (pageSize & (pageSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "Page size must be a power of two of at least 4096.");
        }

        return pageSize;
    }

    private static void ValidateSize(long size, int pageSize)
    {
        if (size <= 0 || size % pageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"Size must be a positive multiple of {pageSize}.");
        }
    }

    private long CheckedOffset(long firstPage, int length)
    {
        if (length % PageSize != 0 || (ulong)firstPage > (ulong)PageCount || length / PageSize > PageCount - firstPage)
        {
            ThrowRangeOutOfRange(new PageRange(firstPage, length / PageSize));
        }

        return firstPage * PageSize;
    }

    [DoesNotReturn]
    private void ThrowPageOutOfRange(long pageIndex) =>
        throw new ArgumentOutOfRangeException(nameof(pageIndex), pageIndex, $"Page index must be below {PageCount}.");

    [DoesNotReturn]
    private void ThrowRangeOutOfRange(PageRange range) =>
        throw new ArgumentOutOfRangeException(nameof(range), range, $"Range must lie inside {PageCount} pages.");
}
