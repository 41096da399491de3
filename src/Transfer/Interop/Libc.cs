using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>
/// The few libc entry points the engine needs. Constants are x86_64/aarch64 Linux values; the
/// engine only runs on Linux (memfd, userfaultfd and PAGEMAP_SCAN are Linux interfaces).
/// </summary>
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    public const int ORdOnly = 0x0;
    public const int OWrOnly = 0x1;
    public const int ORdWr = 0x2;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int ODirectory = 0x10000;
    public const int ONofollow = 0x20000;
    public const int OCloexec = 0x80000;
    public const int ONonblock = 0x800;

    public const uint MfdCloexec = 0x1;
    public const uint MfdHugetlb = 0x4;

    public const int ProtNone = 0x0;
    public const int ProtRead = 0x1;
    public const int ProtWrite = 0x2;
    public const int MapShared = 0x01;
    public const int MapPrivate = 0x02;
    public const int MapFixed = 0x10;
    public const int MapAnonymous = 0x20;
    public const int MapNoReserve = 0x4000;
    public const int MapPopulate = 0x8000;

    public const int SeekSet = 0;
    public const int SeekEnd = 2;
    public const int SeekData = 3;
    public const int SeekHole = 4;

    public const int FallocFlKeepSize = 0x01;
    public const int FallocFlPunchHole = 0x02;

    public const int Enxio = 6;
    public const int Eintr = 4;
    public const int Eagain = 11;
    public const int Einval = 22;
    public const int Eexist = 17;
    public const int Etimedout = 110;

    public const int Eperm = 1;
    public const int Enoent = 2;
    public const int Esrch = 3;
    public const int Ebadf = 9;
    public const int Ebusy = 16;

    public const int SigCont = 18;
    public const int SigStop = 19;

    public const long SysUserfaultfd = 323;
    public const long SysPidfdOpen = 434;
    public const long SysPidfdGetfd = 438;

    [LibraryImport(Library, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, uint mode);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport(Library, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    [LibraryImport(Library, EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(int fd, int mode, long offset, long length);

    [LibraryImport(Library, EntryPoint = "lseek", SetLastError = true)]
    public static partial long Lseek(int fd, long offset, int whence);

    [LibraryImport(Library, EntryPoint = "fstat", SetLastError = true)]
    public static partial int Fstat(int fd, byte* statBuffer);

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint address, nuint length);

    [LibraryImport(Library, EntryPoint = "pread", SetLastError = true)]
    public static partial nint Pread(int fd, void* buffer, nuint count, long offset);

    [LibraryImport(Library, EntryPoint = "pwrite", SetLastError = true)]
    public static partial nint Pwrite(int fd, void* buffer, nuint count, long offset);

    // ioctl and syscall are variadic in C; on the SysV x86_64 and AArch64 ABIs integer and
    // pointer arguments of a variadic call travel exactly like fixed ones, so a fixed signature is safe.
    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, void* argument);

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long argument);

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long argument1, long argument2, long argument3);

    [LibraryImport(Library, EntryPoint = "readlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint Readlink(string path, byte* buffer, nuint size);

    [LibraryImport(Library, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport(Library, EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport(Library, EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    // The tests write into a mapping the way another process (QEMU, ovs-vswitchd) would: through the kernel, not
    // through this process's page tables, so a tracker that watches only the caller's writes would miss it.
    [LibraryImport(Library, EntryPoint = "process_vm_writev", SetLastError = true)]
    public static partial nint ProcessVmWritev(int pid, IoVec* local, ulong localCount, IoVec* remote, ulong remoteCount, ulong flags);

    [LibraryImport(Library, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mkdir(string path, uint mode);

    [LibraryImport(Library, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int Fchmod(int fd, uint mode);

    [LibraryImport(Library, EntryPoint = "fchown", SetLastError = true)]
    public static partial int Fchown(int fd, uint owner, uint group);

    /// <summary>The errno of the last P/Invoke marked SetLastError.</summary>
    public static int LastError => Marshal.GetLastPInvokeError();

    /// <summary>Describes an errno the way strerror does.</summary>
    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
