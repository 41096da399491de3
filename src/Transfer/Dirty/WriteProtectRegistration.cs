using Ferry.Transfer.Interop;

namespace Ferry.Transfer.Dirty;

/// <summary>
/// Registers a range of this process's memory with userfaultfd write-protect in async mode.
/// The process whose writes are tracked must do this itself (the guest, or the engine's
/// workload); a tracker in another process then reads and re-arms the written bits with
/// PAGEMAP_SCAN. Writes never block: in async mode the kernel resolves the fault itself and
/// only records that the page was written. Disposing closes the userfaultfd, which ends tracking.
/// </summary>
public sealed unsafe class WriteProtectRegistration : IDisposable
{
    private readonly FileDescriptorHandle _uffd;

    private WriteProtectRegistration(FileDescriptorHandle uffd, byte* address, long length)
    {
        _uffd = uffd;
        Address = address;
        Length = length;
    }

    /// <summary>Start of the registered range.</summary>
    public byte* Address { get; }

    /// <summary>Length of the registered range in bytes.</summary>
    public long Length { get; }

    /// <summary>Registers and write-protects a page-aligned range (a shared file mapping such as guest RAM).</summary>
    /// <param name="address">Page-aligned start.</param>
    /// <param name="length">Length in bytes, a multiple of the page size.</param>
    /// <exception cref="IOException">The kernel refused; the message says which step and why.</exception>
    public static WriteProtectRegistration Register(byte* address, long length)
    {
        if (!TryRegister(address, length, out var registration, out string reason))
        {
            throw new IOException(reason);
        }

        return registration!;
    }

    /// <summary>Like <see cref="Register"/>, but returns the failure as a reason.</summary>
    /// <param name="address">Page-aligned start.</param>
    /// <param name="length">Length in bytes.</param>
    /// <param name="registration">The registration, when it worked.</param>
    /// <param name="reason">Why it did not.</param>
    public static bool TryRegister(byte* address, long length, out WriteProtectRegistration? registration, out string reason)
    {
        registration = null;
        long fd = Libc.Syscall(Libc.SysUserfaultfd, Libc.OCloexec | Libc.ONonblock);
        if (fd < 0)
        {
            reason = $"userfaultfd(2): {Libc.Describe(Libc.LastError)}";
            return false;
        }

        var handle = new FileDescriptorHandle((int)fd);
        var api = new UffdioApi { Api = KernelAbi.UffdApi, Features = KernelAbi.FeatureWpAsync | KernelAbi.FeatureWpHugetlbfsShmem };
        if (Libc.Ioctl(handle.Fd, KernelAbi.UffdioApiIoctl, &api) != 0)
        {
            reason = $"UFFDIO_API with WP_ASYNC|WP_HUGETLBFS_SHMEM: {Libc.Describe(Libc.LastError)} (needs Linux 6.7+)";
            handle.Dispose();
            return false;
        }

        var register = new UffdioRegister { Start = (ulong)address, Length = (ulong)length, Mode = KernelAbi.RegisterModeWp };
        if (Libc.Ioctl(handle.Fd, KernelAbi.UffdioRegisterIoctl, &register) != 0)
        {
            reason = $"UFFDIO_REGISTER (MODE_WP): {Libc.Describe(Libc.LastError)}";
            handle.Dispose();
            return false;
        }

        registration = new WriteProtectRegistration(handle, address, length);
        if (!registration.TryProtectAll(out reason))
        {
            registration.Dispose();
            registration = null;
            return false;
        }

        reason = "registered";
        return true;
    }

    /// <summary>Write-protects the whole range again, so every page counts as unwritten from now on.</summary>
    public void ProtectAll()
    {
        if (!TryProtectAll(out string reason))
        {
            throw new IOException(reason);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _uffd.Dispose();

    private bool TryProtectAll(out string reason)
    {
        var protect = new UffdioWriteProtect { Start = (ulong)Address, Length = (ulong)Length, Mode = KernelAbi.WriteProtectModeWp };
        if (Libc.Ioctl(_uffd.Fd, KernelAbi.UffdioWriteProtectIoctl, &protect) != 0)
        {
            reason = $"UFFDIO_WRITEPROTECT: {Libc.Describe(Libc.LastError)}";
            return false;
        }

        reason = "protected";
        return true;
    }
}
