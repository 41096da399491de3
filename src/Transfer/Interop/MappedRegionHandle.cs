using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>Owns an mmap'ed address range (including any guard pages) and unmaps it exactly once.</summary>
internal sealed class MappedRegionHandle : SafeHandle
{
    public MappedRegionHandle(nint address, nuint length)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    public override bool IsInvalid => handle == -1 || handle == 0;

    /// <summary>Length of the whole reservation in bytes.</summary>
    public nuint Length { get; }

    public nint Address => handle;

    protected override bool ReleaseHandle() => Libc.Munmap(handle, Length) == 0;
}
