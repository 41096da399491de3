using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Protocol;

namespace Ferry.Transfer.Migration;

/// <summary>Builds the pieces of a pass, split at partition chunks so each belongs to exactly one stream.</summary>
internal static class PassPlan
{
    /// <summary>Holes shorter than this between data are read with it: one pread beats many (tmpfs reads holes as zeros without allocating).</summary>
    private const long SmallHolePages = 64;

    /// <summary>Every page once: allocated ranges to scan, holes to send as zero ranges without reading.</summary>
    public static List<PassPiece> FirstPass(GuestMemory memory)
    {
        var pieces = new List<PassPiece>();
        long next = 0;
        var merged = new List<PageRange>();
        foreach (var data in memory.GetAllocatedRanges())
        {
            if (merged.Count > 0 && data.First - merged[^1].End < SmallHolePages)
            {
                merged[^1] = new PageRange(merged[^1].First, data.End - merged[^1].First);
            }
            else
            {
                merged.Add(data);
            }
        }

        foreach (var data in merged)
        {
            Split(pieces, new PageRange(next, data.First - next), hole: true);
            Split(pieces, data, hole: false);
            next = data.End;
        }

        Split(pieces, new PageRange(next, memory.PageCount - next), hole: true);
        return pieces;
    }

    /// <summary>Gaps shorter than this between allocated ranges are scanned with them: PAGEMAP_SCAN walks 2 MiB of page table in about the time of one more ioctl.</summary>
    private const long ScanGapPages = 512;

    /// <summary>
    /// Where a dirty scan needs to look: the RAM file's allocated ranges, small gaps merged. A
    /// page the guest writes is allocated in the file, so a hole holds nothing written since
    /// the last scan; a page allocated after this walk keeps its written mark for the next scan,
    /// and the final scan runs with the guest paused, when nothing is allocated any more.
    /// </summary>
    public static List<PageRange> ScanRanges(GuestMemory memory)
    {
        var ranges = memory.GetAllocatedRanges();
        int kept = 0;
        for (int i = 0; i < ranges.Count; i++)
        {
            if (kept > 0 && ranges[i].First - ranges[kept - 1].End < ScanGapPages)
            {
                ranges[kept - 1] = new PageRange(ranges[kept - 1].First, ranges[i].End - ranges[kept - 1].First);
            }
            else
            {
                ranges[kept++] = ranges[i];
            }
        }

        ranges.RemoveRange(kept, ranges.Count - kept);
        return ranges;
    }

    /// <summary>The pages a dirty scan found.</summary>
    public static List<PassPiece> DirtyPass(DirtyPageSet dirty)
    {
        var pieces = new List<PassPiece>();
        foreach (var range in dirty.ToRanges())
        {
            Split(pieces, range, hole: false);
        }

        return pieces;
    }

    private static void Split(List<PassPiece> pieces, PageRange range, bool hole)
    {
        long first = range.First;
        while (first < range.End)
        {
            long end = Math.Min(range.End, StreamPartition.ChunkEnd(first));
            pieces.Add(new PassPiece(new PageRange(first, end - first), hole));
            first = end;
        }
    }
}
