using System.Runtime.InteropServices;

namespace Ferry.Transfer.Interop;

/// <summary>struct page_region: an address range [Start, End) and its PAGE_IS_* categories.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PageRegion
{
    public ulong Start;
    public ulong End;
    public ulong Categories;
}
