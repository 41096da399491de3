using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>struct uffdio_api from include/uapi/linux/userfaultfd.h.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioApi
{
    public ulong Api;
    public ulong Features;
    public ulong Ioctls;
}
