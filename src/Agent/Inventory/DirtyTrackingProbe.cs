using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Ferry.Agent.Inventory;

/// <summary>
/// Asks the kernel which dirty-page trackers it has. These are capability probes for the inventory;
/// the page-transfer engine (<c>src/Transfer</c>) runs its own functional probe before it relies on one.
/// </summary>
internal static class DirtyTrackingProbe
{
    public static IReadOnlyList<DirtyTrackerProbe> ProbeAll() => [ProbeUserfaultfdWriteProtect(), ProbeSoftDirty()];

    /// <summary>
    /// userfaultfd in async write-protect mode plus PAGEMAP_SCAN (Linux 6.7+): a user-mode-only
    /// userfaultfd (allowed without privileges or the sysctl), UFFDIO_API asking for WP_ASYNC, and
    /// PAGEMAP_SCAN known to /proc/self/pagemap.
    /// </summary>
    public static DirtyTrackerProbe ProbeUserfaultfdWriteProtect()
    {
        const string Name = DirtyTrackerProbe.UserfaultfdWriteProtect;
        var fd = (int)LinuxKernel.Syscall(LinuxKernel.SysUserfaultfd, LinuxKernel.OCloexec | LinuxKernel.ONonblock | LinuxKernel.UffdUserModeOnly);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return new DirtyTrackerProbe(Name, false, errno == LinuxKernel.Enosys
                ? "the kernel has no userfaultfd (CONFIG_USERFAULTFD)"
                : $"userfaultfd(UFFD_USER_MODE_ONLY) failed: {LinuxKernel.Describe(errno)}");
        }

        ulong supported;
        try
        {
            ulong[] api = [LinuxKernel.UffdApi, LinuxKernel.UffdFeatureWpAsync, 0];
            if (LinuxKernel.IoctlUffdioApi(fd, LinuxKernel.UffdioApiRequest, api) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                return new DirtyTrackerProbe(Name, false, errno == LinuxKernel.Einval
                    ? "UFFDIO_API refused UFFD_FEATURE_WP_ASYNC: the kernel is older than 6.7 or lacks userfaultfd write-protect"
                    : $"UFFDIO_API failed: {LinuxKernel.Describe(errno)}");
            }

            supported = api[1];
        }
        finally
        {
            _ = LinuxKernel.Close(fd);
        }

        // Guest RAM is a shared tmpfs or hugetlbfs file, not anonymous memory.
        if ((supported & LinuxKernel.UffdFeatureWpHugetlbfsShmem) == 0)
        {
            return new DirtyTrackerProbe(Name, false, "userfaultfd cannot write-protect shmem or hugetlbfs (no UFFD_FEATURE_WP_HUGETLBFS_SHMEM), where guest RAM lives");
        }

        using var pagemap = File.OpenHandle("/proc/self/pagemap", FileMode.Open, FileAccess.Read);
        if (LinuxKernel.IoctlPagemapScan(pagemap, LinuxKernel.PagemapScanRequest, new byte[96]) == 0)
        {
            return new DirtyTrackerProbe(Name, false, "PAGEMAP_SCAN accepted an invalid argument; refusing to trust it");
        }

        var scanErrno = Marshal.GetLastPInvokeError();
        return scanErrno switch
        {
            LinuxKernel.Einval => new DirtyTrackerProbe(Name, true, "userfaultfd WP_ASYNC (shmem and hugetlbfs included) and the PAGEMAP_SCAN ioctl are supported"),
            LinuxKernel.Enotty => new DirtyTrackerProbe(Name, false, "/proc/<pid>/pagemap has no PAGEMAP_SCAN ioctl (Linux 6.7+)"),
            _ => new DirtyTrackerProbe(Name, false, $"PAGEMAP_SCAN probe failed: {LinuxKernel.Describe(scanErrno)}"),
        };
    }

    /// <summary>
    /// Soft-dirty (CONFIG_MEM_SOFT_DIRTY): of two faulted-in pages, only the one written after
    /// <c>clear_refs=4</c> may carry pagemap bit 55. Without the option the bit is never set; checking
    /// the unwritten page too catches a kernel that sets it on everything.
    /// </summary>
    public static DirtyTrackerProbe ProbeSoftDirty()
    {
        const string Name = DirtyTrackerProbe.SoftDirty;
        const ulong SoftDirtyBit = 1UL << 55;
        const ulong PresentBit = 1UL << 63;
        var pageSize = Environment.SystemPageSize;
        var length = (nuint)(2 * pageSize);
        var region = LinuxKernel.Mmap(0, length, LinuxKernel.ProtReadWrite, LinuxKernel.MapPrivateAnonymous, -1, 0);
        if (region == -1)
        {
            return new DirtyTrackerProbe(Name, false, $"mmap of a scratch page failed: {LinuxKernel.Describe(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            Marshal.WriteByte(region, 1);
            Marshal.WriteByte(region + pageSize, 1);
            File.WriteAllText("/proc/self/clear_refs", "4");
            Marshal.WriteByte(region, 2);

            using var pagemap = File.OpenHandle("/proc/self/pagemap", FileMode.Open, FileAccess.Read);
            Span<byte> entries = stackalloc byte[16];
            var read = RandomAccess.Read(pagemap, entries, region / pageSize * 8);
            var written = BinaryPrimitives.ReadUInt64LittleEndian(entries);
            var untouched = BinaryPrimitives.ReadUInt64LittleEndian(entries[8..]);
            if (read != 16 || (written & PresentBit) == 0)
            {
                return new DirtyTrackerProbe(Name, false, "/proc/self/pagemap did not show the scratch page as present");
            }

            return ((written & SoftDirtyBit) != 0, (untouched & SoftDirtyBit) != 0) switch
            {
                (true, false) => new DirtyTrackerProbe(Name, true, "after clear_refs=4 pagemap bit 55 marked exactly the written page"),
                (false, _) => new DirtyTrackerProbe(Name, false, "pagemap bit 55 stayed clear on a page written after clear_refs=4: the kernel is built without CONFIG_MEM_SOFT_DIRTY"),
                (true, true) => new DirtyTrackerProbe(Name, false, "clear_refs=4 did not clear pagemap bit 55 on an unwritten page"),
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new DirtyTrackerProbe(Name, false, $"soft-dirty probe failed: {ex.Message}");
        }
        finally
        {
            _ = LinuxKernel.Munmap(region, length);
        }
    }
}
