namespace Ferry.Transfer.Memory;

/// <summary>A run of consecutive guest pages, <c>[First, First + Count)</c>.</summary>
/// <param name="First">Index of the first page.</param>
/// <param name="Count">Number of pages in the run.</param>
public readonly record struct PageRange(long First, long Count)
{
    /// <summary>Index one past the last page.</summary>
    public long End => First + Count;

    /// <summary>True when the run holds no page.</summary>
    public bool IsEmpty => Count <= 0;
}
