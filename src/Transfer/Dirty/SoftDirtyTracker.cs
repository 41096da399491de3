using System.Globalization;
using Ferry.Transfer.Interop;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Dirty;

/// <summary>
/// Soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY) of every process that maps a RAM file: for a QEMU
/// guest, QEMU and the vhost-user backend. Unlike PAGEMAP_SCAN's written bits, soft-dirty has no
/// atomic get-and-clear: reading /proc/&lt;pid&gt;/pagemap and writing 4 to clear_refs are two calls,
/// and a write between them would be cleared unseen. So each process is stopped (SIGSTOP, waiting
/// until every thread is stopped) for its own read and clear and continued right after; a
/// process's soft-dirty bits change only through its own page tables, so one process at a time
/// is enough. Kernel threads that write through a process's memory (vhost-net) are not stopped
/// and are not covered; vhost-user backends are user processes and are.
/// </summary>
public sealed unsafe class SoftDirtyTracker : IDirtyTracker
{
    private const int EntriesPerRead = 64 * 1024;
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(2);

    private readonly List<TrackedProcess> _processes;
    private readonly int _pageSize;
    private readonly ulong[] _entries = new ulong[EntriesPerRead];
    private bool _disposed;

    private readonly long _pageCount;

    private SoftDirtyTracker(List<TrackedProcess> processes, int pageSize, long pageCount)
    {
        _processes = processes;
        _pageSize = pageSize;
        _pageCount = pageCount;
    }

    /// <inheritdoc/>
    public DirtyTrackerKind Kind => DirtyTrackerKind.SoftDirty;

    /// <summary>The processes whose writes are tracked.</summary>
    public IReadOnlyList<int> ProcessIds => _processes.Select(p => p.Pid).ToList();

    /// <summary>
    /// Opens a tracker over every process in <paramref name="pids"/>; each must map the whole RAM
    /// file shared. Tracking starts with <see cref="Reset"/>.
    /// </summary>
    /// <param name="pids">The processes that map the RAM file (not this one: it cannot stop itself).</param>
    /// <param name="memory">The RAM file, with base-size pages (one pagemap entry per page).</param>
    public static SoftDirtyTracker Open(IReadOnlyList<int> pids, GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(pids);
        ArgumentNullException.ThrowIfNull(memory);
        if (pids.Count == 0)
        {
            throw new ArgumentException("At least one process must be tracked.", nameof(pids));
        }

        if (memory.PageSize != Environment.SystemPageSize)
        {
            throw new NotSupportedException($"Soft-dirty is read per {Environment.SystemPageSize}-byte page; RAM with {memory.PageSize}-byte pages is not covered.");
        }

        var identity = memory.GetIdentity();
        var processes = new List<TrackedProcess>();
        try
        {
            foreach (int pid in pids.Distinct())
            {
                if (pid == Environment.ProcessId)
                {
                    throw new ArgumentException("The tracker cannot stop its own process.", nameof(pids));
                }

                var mapping = ProcessMapping.Find(pid, identity, memory.Size, out string reason)
                    ?? throw new IOException(reason);
                int fd = Libc.Open($"/proc/{pid}/pagemap", Libc.ORdOnly | Libc.OCloexec, 0);
                if (fd < 0)
                {
                    NativeError.Throw($"open /proc/{pid}/pagemap");
                }

                processes.Add(new TrackedProcess(pid, new FileDescriptorHandle(fd), mapping.Start));
            }
        }
        catch
        {
            processes.ForEach(p => p.Pagemap.Dispose());
            throw;
        }

        return new SoftDirtyTracker(processes, memory.PageSize, memory.PageCount);
    }

    /// <inheritdoc/>
    public void Reset()
    {
        foreach (var process in _processes)
        {
            WhileStopped(process.Pid, () => ClearRefs(process.Pid));
        }
    }

    /// <inheritdoc/>
    public long CollectAndClear(DirtyPageSet dirty)
    {
        ArgumentNullException.ThrowIfNull(dirty);
        ObjectDisposedException.ThrowIf(_disposed, this);
        long reported = 0;
        foreach (var process in _processes)
        {
            WhileStopped(process.Pid, () =>
            {
                reported += Read(process, dirty);
                ClearRefs(process.Pid);
            });
        }

        return reported;
    }

    /// <inheritdoc/>
    /// <remarks>Reading pagemap alone needs no stop: only a read followed by a clear must be atomic.</remarks>
    public long Peek(DirtyPageSet dirty, IReadOnlyList<PageRange> within)
    {
        ArgumentNullException.ThrowIfNull(dirty);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _processes.Sum(process => Read(process, dirty));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var process in _processes)
        {
            process.Pagemap.Dispose();
        }
    }

    private long Read(TrackedProcess process, DirtyPageSet dirty)
    {
        long reported = 0;
        long firstEntry = (long)(process.Start / (ulong)_pageSize);
        fixed (ulong* entries = _entries)
        {
            for (long page = 0; page < _pageCount; page += EntriesPerRead)
            {
                int count = (int)Math.Min(EntriesPerRead, _pageCount - page);
                long offset = (firstEntry + page) * 8;
                long done = 0;
                while (done < count * 8L)
                {
                    nint n = Libc.Pread(process.Pagemap.Fd, (byte*)entries + done, (nuint)((count * 8L) - done), offset + done);
                    if (n <= 0)
                    {
                        if (n < 0 && Libc.LastError == Libc.Eintr)
                        {
                            continue;
                        }

                        NativeError.Throw($"read /proc/{process.Pid}/pagemap", n == 0 ? Libc.Enxio : Libc.LastError);
                    }

                    done += n;
                }

                for (int i = 0; i < count; i++)
                {
                    if ((entries[i] & KernelAbi.PagemapSoftDirty) != 0)
                    {
                        dirty.Add(page + i);
                        reported++;
                    }
                }
            }
        }

        return reported;
    }

    private static void ClearRefs(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "4");

    /// <summary>Runs <paramref name="work"/> while every thread of <paramref name="pid"/> is stopped; always continues it.</summary>
    private static void WhileStopped(int pid, Action work)
    {
        if (Libc.Kill(pid, Libc.SigStop) != 0)
        {
            NativeError.Throw(string.Create(CultureInfo.InvariantCulture, $"kill({pid}, SIGSTOP)"));
        }

        try
        {
            WaitUntilStopped(pid);
            work();
        }
        finally
        {
            _ = Libc.Kill(pid, Libc.SigCont);
        }
    }

    private static void WaitUntilStopped(int pid)
    {
        long deadline = Environment.TickCount64 + (long)StopTimeout.TotalMilliseconds;
        var spin = default(SpinWait);
        while (true)
        {
            bool allStopped = true;
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                string stat;
                try
                {
                    stat = File.ReadAllText(Path.Combine(task, "stat"));
                }
                catch (IOException)
                {
                    continue; // the thread exited
                }

                // pid (comm) S ...: the state follows the last ')', since comm may hold anything.
                int close = stat.LastIndexOf(')');
                char state = close >= 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
                if (state is not ('T' or 't' or 'Z' or 'X'))
                {
                    allStopped = false;
                    break;
                }
            }

            if (allStopped)
            {
                return;
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture, $"process {pid} did not stop within {StopTimeout.TotalSeconds} s for the soft-dirty scan"));
            }

            spin.SpinOnce();
        }
    }

    private sealed record TrackedProcess(int Pid, FileDescriptorHandle Pagemap, ulong Start);
}
