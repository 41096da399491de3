using System.Globalization;
using System.Text;
using Ferry.Transfer.Interop;

namespace Ferry.Transfer.Dirty;

/// <summary>
/// A userfaultfd that another process created for its own memory (Ferry's preload library,
/// <c>libferry-uffd.so</c>, does so in QEMU and ovs-vswitchd) and that this process took with
/// <c>pidfd_getfd(2)</c>. It belongs to the creator's memory whoever holds it: registering,
/// write-protecting and scanning through it act on the creator's page tables. It is initialised
/// (UFFDIO_API, async write-protect) once per descriptor, by whoever takes it first: an agent that
/// restarted finds it initialised already, which the kernel tells with EINVAL, and goes on.
/// </summary>
public sealed unsafe class ProcessUserfaultfd : IDisposable
{
    /// <summary>The descriptor number the preload library moves its userfaultfd to (its <c>FERRY_UFFD_FD</c>).</summary>
    public const int DefaultDescriptor = 1000;

    /// <summary>The preload library's file name, beside the assemblies of every project that references Transfer.</summary>
    public const string PreloadLibraryName = "libferry-uffd.so";

    /// <summary>The features the tracker needs: async write-protect, including never-populated pages and hugetlbfs/shmem.</summary>
    internal const ulong Features = KernelAbi.FeatureWpAsync | KernelAbi.FeatureWpUnpopulated | KernelAbi.FeatureWpHugetlbfsShmem;

    private ProcessUserfaultfd(int pid, FileDescriptorHandle handle, bool initialisedEarlier)
    {
        Pid = pid;
        Handle = handle;
        InitialisedEarlier = initialisedEarlier;
    }

    /// <summary>The process whose memory this userfaultfd tracks.</summary>
    public int Pid { get; }

    /// <summary>True when another holder (an earlier agent) had initialised it already.</summary>
    public bool InitialisedEarlier { get; }

    internal FileDescriptorHandle Handle { get; }

    /// <summary>The preload library beside this assembly, or null when the build did not make one.</summary>
    public static string? FindPreloadLibrary()
    {
        var path = Path.Combine(AppContext.BaseDirectory, PreloadLibraryName);
        return File.Exists(path) ? path : null;
    }

    /// <summary>
    /// Takes the userfaultfd at <paramref name="descriptor"/> in process <paramref name="pid"/> and
    /// initialises it for async write-protect. Needs ptrace access to the process (root, or its owner).
    /// </summary>
    /// <param name="pid">The process that created it.</param>
    /// <param name="descriptor">Its descriptor number there.</param>
    /// <param name="userfaultfd">The taken descriptor, when it worked.</param>
    /// <param name="reason">Why it did not.</param>
    public static bool TryTake(int pid, int descriptor, out ProcessUserfaultfd? userfaultfd, out string reason)
    {
        userfaultfd = null;
        var process = $"process {pid.ToString(CultureInfo.InvariantCulture)}";
        var link = ReadLink($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd/{descriptor.ToString(CultureInfo.InvariantCulture)}");
        if (link != "anon_inode:[userfaultfd]")
        {
            reason = link is null
                ? $"{process} has no descriptor {descriptor} (it was not started with {PreloadLibraryName}, or the library could not create a userfaultfd there)"
                : $"descriptor {descriptor} of {process} is '{link}', not a userfaultfd";
            return false;
        }

        long pidfd = Libc.Syscall(Libc.SysPidfdOpen, pid, 0, 0);
        if (pidfd < 0)
        {
            reason = $"pidfd_open({process}): {Libc.Describe(Libc.LastError)}";
            return false;
        }

        using var pidHandle = new FileDescriptorHandle((int)pidfd);
        long fd = Libc.Syscall(Libc.SysPidfdGetfd, pidHandle.Fd, descriptor, 0);
        if (fd < 0)
        {
            reason = $"pidfd_getfd({process}, {descriptor}): {Libc.Describe(Libc.LastError)}";
            return false;
        }

        var handle = new FileDescriptorHandle((int)fd);
        var api = new UffdioApi { Api = KernelAbi.UffdApi, Features = Features };
        bool earlier = false;
        if (Libc.Ioctl(handle.Fd, KernelAbi.UffdioApiIoctl, &api) != 0)
        {
            int errno = Libc.LastError;
            if (errno != Libc.Einval)
            {
                handle.Dispose();
                reason = $"UFFDIO_API on the userfaultfd of {process}: {Libc.Describe(errno)} (needs Linux 6.7+ for WP_ASYNC)";
                return false;
            }

            // UFFDIO_API works once per userfaultfd; EINVAL is the answer to a second call (a restarted
            // agent). Registering will tell if it was really initialised with what the tracker needs.
            earlier = true;
        }
        else if ((api.Features & Features) != Features)
        {
            handle.Dispose();
            reason = $"the kernel grants userfaultfd features 0x{api.Features:x}, not the 0x{Features:x} the tracker needs";
            return false;
        }

        userfaultfd = new ProcessUserfaultfd(pid, handle, earlier);
        reason = earlier ? "taken (initialised earlier)" : "taken";
        return true;
    }

    /// <inheritdoc/>
    public void Dispose() => Handle.Dispose();

    private static string? ReadLink(string path)
    {
        byte* buffer = stackalloc byte[256];
        nint length = Libc.Readlink(path, buffer, 256);
        return length < 0 ? null : Encoding.UTF8.GetString(buffer, (int)length);
    }
}
