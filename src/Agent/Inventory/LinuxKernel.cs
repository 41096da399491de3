using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ferry.Agent.Inventory;

/// <summary>
/// The few system calls the dirty-tracking probes need, as plain P/Invokes with blittable arguments
/// (the agent has no unsafe code; the hot paths that do live in <c>src/Transfer</c>).
/// </summary>
internal static class LinuxKernel
{
    public const long SysUserfaultfd = 323; // x86_64
    public const int OCloexec = 0x80000;
    public const int ONonblock = 0x800;
    public const int UffdUserModeOnly = 1;
    public const ulong UffdApi = 0xAA;
    public const ulong UffdFeatureWpHugetlbfsShmem = 1UL << 12;
    public const ulong UffdFeatureWpAsync = 1UL << 15;

    /// <summary>_IOWR(0xAA, 0x3F, struct uffdio_api).</summary>
    public const ulong UffdioApiRequest = 0xC018AA3F;

    /// <summary>_IOWR('f', 16, struct pm_scan_arg).</summary>
    public const ulong PagemapScanRequest = 0xC0606610;

    public const int ProtReadWrite = 0x1 | 0x2;
    public const int MapPrivateAnonymous = 0x02 | 0x20;
    public const int Einval = 22;
    public const int Enotty = 25;
    public const int Enosys = 38;

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static extern long Syscall(long number, long argument);

    /// <summary>struct uffdio_api as three u64 (api, features, ioctls); the kernel writes back all features it supports.</summary>
    [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static extern int IoctlUffdioApi(int fd, ulong request, [In, Out] ulong[] api);

    /// <summary>
    /// struct pm_scan_arg (96 bytes). The probe passes it zeroed: a kernel with PAGEMAP_SCAN rejects the
    /// zero size with EINVAL, one without answers ENOTTY, and nothing is scanned either way.
    /// </summary>
    [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static extern int IoctlPagemapScan(SafeFileHandle fd, ulong request, [In, Out] byte[] argument);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static extern nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static extern int Munmap(nint address, nuint length);

    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
