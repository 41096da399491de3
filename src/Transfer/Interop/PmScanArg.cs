using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>struct pm_scan_arg from include/uapi/linux/fs.h (96 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct PmScanArg
{
    /// <summary>
    /// A walk of [<paramref name="start"/>, <paramref name="end"/>) that reports the pages written since they were
    /// last write-protected into <paramref name="regions"/> (<paramref name="capacity"/> of them at a time) and, with
    /// <paramref name="clear"/>, protects them again; without it the walk only reads: written pages stay writable
    /// and stay reported.
    /// </summary>
    public static PmScanArg WrittenPages(ulong start, ulong end, PageRegion* regions, int capacity, bool clear) => new()
    {
        Size = (ulong)sizeof(PmScanArg),
        Flags = (clear ? KernelAbi.PmScanWpMatching : 0UL) | KernelAbi.PmScanCheckWpAsync,
        Start = start,
        End = end,
        Vec = (ulong)regions,
        VecLength = (ulong)capacity,
        CategoryMask = KernelAbi.PageIsWritten,
        ReturnMask = KernelAbi.PageIsWritten,
    };

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
