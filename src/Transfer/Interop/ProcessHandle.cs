using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>
/// A process held by a pidfd (Linux 5.3+): signals sent through it reach that process or nobody, never
/// a later process that was given the same pid after it exited. Check what a process is (its
/// <c>/proc</c> entries) after opening the handle, then confirm <see cref="IsAlive"/>: if it is, the
/// entries read were that process's.
/// </summary>
public sealed unsafe partial class ProcessHandle : IDisposable
{
    private const long SysPidfdSendSignal = 424;
    private const long SysPidfdOpen = 434;
    private const int Sigkill = 9;
    private const int Esrch = 3;
    private const short Pollin = 0x1;

    private readonly FileDescriptorHandle _fd;

    private ProcessHandle(int pid, int fd)
    {
        Pid = pid;
        _fd = new FileDescriptorHandle(fd);
    }

    /// <summary>The pid the handle was opened for.</summary>
    public int Pid { get; }

    /// <summary>Whether the process still exists (not yet reaped).</summary>
    public bool IsAlive => Signal(0);

    /// <summary>A handle on process <paramref name="pid"/>; null when there is no such process.</summary>
    /// <param name="pid">The process id.</param>
    public static ProcessHandle? Open(int pid)
    {
        long fd = PidfdOpen(SysPidfdOpen, pid, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno == Esrch ? null : throw new IOException($"pidfd_open({pid}) failed: {Libc.Describe(errno)}");
        }

        return new ProcessHandle(pid, (int)fd);
    }

    /// <summary>SIGKILL to this process; false when it is already gone (nobody else is signalled).</summary>
    public bool Kill() => Signal(Sigkill);

    /// <summary>Waits until the process has exited; false when it still runs after <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait.</param>
    public bool WaitForExit(TimeSpan timeout)
    {
        // A pidfd becomes readable when its process exits, whether or not it is this process's child.
        var poll = stackalloc short[4];
        *(int*)poll = _fd.Fd;
        poll[2] = Pollin;
        poll[3] = 0;
        int result = Poll(poll, 1, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        return result > 0;
    }

    /// <inheritdoc/>
    public void Dispose() => _fd.Dispose();

    private bool Signal(int signal)
    {
        if (PidfdSendSignal(SysPidfdSendSignal, _fd.Fd, signal, 0, 0) == 0)
        {
            return true;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno == Esrch ? false : throw new IOException($"pidfd_send_signal({Pid}, {signal}) failed: {Libc.Describe(errno)}");
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long PidfdOpen(long number, int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long PidfdSendSignal(long number, int pidfd, int signal, nint info, uint flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(short* fds, nuint count, int timeout);
}
