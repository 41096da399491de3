using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>struct uffdio_writeprotect (range start, range length, mode).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioWriteProtect
{
    public ulong Start;
    public ulong Length;
    public ulong Mode;
}
