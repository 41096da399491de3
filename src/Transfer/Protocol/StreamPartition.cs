namespace Ferry.Transfer.Protocol;

/// <summary>
/// Which stream carries which page. Every version of a page travels on the same stream, so a
/// newer copy can never overtake an older one on another connection; pages go in chunks so
/// each stream still sees long contiguous runs.
/// </summary>
public static class StreamPartition
{
    /// <summary>Pages per chunk (1 MiB of 4 KiB pages).</summary>
    public const int ChunkPages = 256;

    /// <summary>The stream that owns a page.</summary>
    /// <param name="page">Page index.</param>
    /// <param name="streamCount">Number of streams.</param>
    public static int StreamOf(long page, int streamCount) =>
        streamCount == 1 ? 0 : (int)((page / ChunkPages) % streamCount);

    /// <summary>End of the chunk that holds a page (exclusive), where a range must be split.</summary>
    /// <param name="page">Page index.</param>
    public static long ChunkEnd(long page) => (page / ChunkPages + 1) * ChunkPages;
}
