using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>Owns a Linux file descriptor and closes it exactly once.</summary>
internal sealed class FileDescriptorHandle : SafeHandle
{
    public FileDescriptorHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle < 0;

    /// <summary>The raw descriptor; valid while this handle is alive.</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}
