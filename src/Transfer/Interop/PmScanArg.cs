using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>struct pm_scan_arg from include/uapi/linux/fs.h (96 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PmScanArg
{
    public ulong Size;
    public ulong Flags;
    public ulong Start;
    public ulong End;
    public ulong WalkEnd;
    public ulong Vec;
    public ulong VecLength;
    public ulong MaxPages;
    public ulong CategoryInverted;
    public ulong CategoryMask;
    public ulong CategoryAnyOfMask;
    public ulong ReturnMask;
}
