using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>
/// futex(2) on a word in a shared file mapping, so it works across processes (no FUTEX_PRIVATE_FLAG):
/// a waiter sleeps in the kernel until the word changes and someone wakes it.
/// </summary>
internal static unsafe partial class Futex
{
    private const int Wait = 0;
    private const int Wake = 1;

    private static readonly long SysFutex = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        var other => throw new PlatformNotSupportedException($"futex syscall number for {other}"),
    };

    /// <summary>Sleeps while <c>*word == expected</c>, at most <paramref name="timeout"/> (infinite when null).</summary>
    /// <returns>False on timeout; true when woken, interrupted or the word already differed.</returns>
    public static bool WaitWhile(int* word, int expected, TimeSpan? timeout)
    {
        Timespec relative = default;
        if (timeout is { } t)
        {
            long ticks = Math.Max(0, t.Ticks);
            relative = new Timespec { Seconds = ticks / TimeSpan.TicksPerSecond, Nanoseconds = ticks % TimeSpan.TicksPerSecond * 100 };
        }

        long result = Syscall(SysFutex, (nint)word, Wait, expected, timeout is null ? 0 : (nint)(&relative), 0, 0);
        return result == 0 || Marshal.GetLastPInvokeError() != Libc.Etimedout;
    }

    /// <summary>Wakes every waiter on <paramref name="word"/>.</summary>
    public static void WakeAll(int* word) => Syscall(SysFutex, (nint)word, Wake, int.MaxValue, 0, 0, 0);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint word, int operation, int value, nint timeout, nint word2, int value3);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
