using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>struct uffdio_range (start, length), the argument of UFFDIO_UNREGISTER.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioRange
{
    public ulong Start;
    public ulong Length;
}
