namespace Ferry.Transfer.Interop;

/// <summary>
/// Constants of the userfaultfd and PAGEMAP_SCAN interfaces, as in include/uapi/linux/userfaultfd.h
/// and include/uapi/linux/fs.h. Ioctl numbers are _IOWR(type, nr, size) spelled out.
/// </summary>
internal static class KernelAbi
{
    public const ulong UffdApi = 0xAA;

    /// <summary>UFFD_USER_MODE_ONLY, a flag of userfaultfd(2): lets an unprivileged process open one for its own user-mode faults.</summary>
    public const int UffdUserModeOnly = 1;

    public const ulong FeatureWpHugetlbfsShmem = 1UL << 12;
    public const ulong FeatureWpUnpopulated = 1UL << 13;
    public const ulong FeatureWpAsync = 1UL << 15;

    public const ulong RegisterModeWp = 1UL << 1;
    public const ulong WriteProtectModeWp = 1UL << 0;

    // _IOWR(0xAA, nr, size) = 0xC0000000 | size << 16 | 0xAA << 8 | nr
    public const ulong UffdioApiIoctl = 0xC018AA3F;        // nr 0x3F, struct uffdio_api (24)
    public const ulong UffdioRegisterIoctl = 0xC020AA00;   // nr 0x00, struct uffdio_register (32)
    public const ulong UffdioWriteProtectIoctl = 0xC018AA06; // nr 0x06, struct uffdio_writeprotect (24)

    // _IOR(0xAA, 0x01, struct uffdio_range (16)) = 0x80000000 | 16 << 16 | 0xAA << 8 | 0x01
    public const ulong UffdioUnregisterIoctl = 0x8010AA01;

    // _IOWR('f', 16, struct pm_scan_arg (96))
    public const ulong PagemapScanIoctl = 0xC0606610;

    public const ulong PmScanWpMatching = 1UL << 0;
    public const ulong PmScanCheckWpAsync = 1UL << 1;

    public const ulong PageIsWritten = 1UL << 1;

    /// <summary>Bit 55 of a /proc/pid/pagemap entry: the page is soft-dirty.</summary>
    public const ulong PagemapSoftDirty = 1UL << 55;
}
