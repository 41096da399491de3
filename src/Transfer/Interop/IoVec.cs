using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>struct iovec (base, length), as in include/uapi/linux/uio.h: one buffer of a vectored call such as process_vm_writev.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public byte* Base;
    public nuint Length;
}
