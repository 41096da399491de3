using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>struct uffdio_register (range start, range length, mode, ioctls out).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioRegister
{
    public ulong Start;
    public ulong Length;
    public ulong Mode;
    public ulong Ioctls;
}
