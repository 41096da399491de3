using System.Numerics;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Dirty;

/// <summary>A bitmap of guest pages (one bit per page: 256 KiB for 8 GiB of 4 KiB pages).</summary>
public sealed class DirtyPageSet
{
    private readonly ulong[] _words;

    /// <summary>Creates an empty set for a RAM of <paramref name="pageCount"/> pages.</summary>
    /// <param name="pageCount">Pages in the RAM.</param>
    public DirtyPageSet(long pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pageCount);
        PageCount = pageCount;
        _words = new ulong[(pageCount + 63) / 64];
    }

    /// <summary>Pages in the RAM.</summary>
    public long PageCount { get; }

    /// <summary>Number of pages in the set.</summary>
    public long Count
    {
        get
        {
            long count = 0;
            foreach (ulong word in _words)
            {
                count += BitOperations.PopCount(word);
            }

            return count;
        }
    }

    /// <summary>True when the page is in the set.</summary>
    /// <param name="page">Page index.</param>
    public bool Contains(long page) =>
        (ulong)page < (ulong)PageCount && (_words[page >> 6] & (1UL << (int)(page & 63))) != 0;

    /// <summary>Adds one page.</summary>
    /// <param name="page">Page index.</param>
    public void Add(long page)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((ulong)page, (ulong)PageCount, nameof(page));
        _words[page >> 6] |= 1UL << (int)(page & 63);
    }

    /// <summary>Adds a range of pages, clipped to the RAM.</summary>
    /// <param name="range">The pages.</param>
    public void Add(PageRange range)
    {
        long first = Math.Max(0, range.First);
        long end = Math.Min(PageCount, range.End);
        while (first < end)
        {
            int bit = (int)(first & 63);
            int take = (int)Math.Min(64 - bit, end - first);
            ulong mask = take == 64 ? ulong.MaxValue : ((1UL << take) - 1) << bit;
            _words[first >> 6] |= mask;
            first += take;
        }
    }

    /// <summary>Adds every page of another set.</summary>
    /// <param name="other">A set of the same page count.</param>
    public void UnionWith(DirtyPageSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.PageCount != PageCount)
        {
            throw new ArgumentException("Page counts differ.", nameof(other));
        }

        for (int i = 0; i < _words.Length; i++)
        {
            _words[i] |= other._words[i];
        }
    }

    /// <summary>Empties the set.</summary>
    public void Clear() => Array.Clear(_words);

    /// <summary>The set as maximal runs of consecutive pages, in ascending order.</summary>
    public List<PageRange> ToRanges()
    {
        var ranges = new List<PageRange>();
        long runStart = -1;
        for (int w = 0; w < _words.Length; w++)
        {
            ulong word = _words[w];
            if (word == 0 && runStart < 0)
            {
                continue;
            }

            if (word == ulong.MaxValue && runStart >= 0)
            {
                continue;
            }

            for (int bit = 0; bit < 64; bit++)
            {
                long page = ((long)w << 6) + bit;
                bool set = (word & (1UL << bit)) != 0 && page < PageCount;
                if (set && runStart < 0)
                {
                    runStart = page;
                }
                else if (!set && runStart >= 0)
                {
                    ranges.Add(new PageRange(runStart, page - runStart));
                    runStart = -1;
                }
            }
        }

        if (runStart >= 0)
        {
            ranges.Add(new PageRange(runStart, PageCount - runStart));
        }

        return ranges;
    }
}
