using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Zero;

/// <summary>
/// Walks a range of pages once and yields alternating zero and non-zero runs, so zero pages
/// can travel as ranges. Allocation-free; reads each non-zero page only up to its first
/// non-zero block.
/// </summary>
public unsafe ref struct PageRunEnumerator
{
    private readonly byte* _base;
    private readonly int _pageSize;
    private readonly long _end;
    private readonly VectorWidth _width;
    private long _next;

    internal PageRunEnumerator(byte* basePointer, int pageSize, PageRange range, VectorWidth width)
    {
        _base = basePointer;
        _pageSize = pageSize;
        _next = range.First;
        _end = range.End;
        _width = width;
        Current = default;
    }

    /// <summary>The current run.</summary>
    public PageRun Current { get; private set; }

    /// <summary>Returns this enumerator, so it works with foreach.</summary>
    public readonly PageRunEnumerator GetEnumerator() => this;

    /// <summary>Advances to the next run.</summary>
    public bool MoveNext()
    {
        if (_next >= _end)
        {
            return false;
        }

        long start = _next;
        bool zero = ZeroPageDetector.IsZero(_base + start * _pageSize, _pageSize, _width);
        long page = start + 1;
        while (page < _end && ZeroPageDetector.IsZero(_base + page * _pageSize, _pageSize, _width) == zero)
        {
            page++;
        }

        _next = page;
        Current = new PageRun(new PageRange(start, page - start), zero);
        return true;
    }
}
