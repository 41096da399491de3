using System.Globalization;

namespace Ferry.Agent.TestGuest;

/// <summary>
/// Checks the page-counter guest's invariant on stopped guest memory: in address order, every
/// page's byte equals its predecessor's, except at most one place where it is exactly one less
/// (mod 256) — where the vCPU stopped. A page migrated stale, lost or written twice shows up as a
/// second step or a step of the wrong size.
/// </summary>
public static class MemoryInvariant
{
    /// <summary>Checks the counter bytes, one per page, in address order.</summary>
    public static MemoryInvariantResult Check(ReadOnlySpan<byte> pageCounters, long firstPageAddress = 0)
    {
        int? edge = null;
        var hasRun = pageCounters.IndexOfAnyExcept((byte)0) >= 0;
        for (var page = 1; page < pageCounters.Length; page++)
        {
            var previous = pageCounters[page - 1];
            var current = pageCounters[page];
            if (current == previous)
            {
                continue;
            }

            string? failure = null;
            if (current != unchecked((byte)(previous - 1)))
            {
                failure = string.Create(CultureInfo.InvariantCulture, $"page {page} holds {current} after {previous}; only equal or exactly one less is possible");
            }
            else if (edge is { } first)
            {
                failure = string.Create(CultureInfo.InvariantCulture, $"second step at page {page} ({previous} -> {current}); the first was at page {first} ({pageCounters[first - 1]} -> {pageCounters[first]})");
            }

            if (failure is not null)
            {
                var address = firstPageAddress + ((long)page * PageCounterRange.PageSize);
                return new MemoryInvariantResult(false, pageCounters.Length, edge, hasRun, page, address,
                    string.Create(CultureInfo.InvariantCulture, $"{failure} (guest-physical 0x{address:x}); pages by value: {Runs(pageCounters)}"));
            }

            edge = page;
        }

        return new MemoryInvariantResult(true, pageCounters.Length, edge, hasRun, null, null, null);
    }

    /// <summary>
    /// The counters as runs of equal values, "[first..last]=value", the first few only: what a
    /// failure looks like at a glance (one lost page, a stale block, a guest that rebooted and is
    /// clearing its counters again: zeros up to where it stands).
    /// </summary>
    private static string Runs(ReadOnlySpan<byte> pageCounters)
    {
        const int Shown = 8;
        var runs = new List<string>();
        var start = 0;
        var total = 0;
        for (var page = 1; page <= pageCounters.Length; page++)
        {
            if (page < pageCounters.Length && pageCounters[page] == pageCounters[start])
            {
                continue;
            }

            if (total++ < Shown)
            {
                runs.Add(string.Create(CultureInfo.InvariantCulture, $"[{start}..{page - 1}]={pageCounters[start]}"));
            }

            start = page;
        }

        return string.Join(", ", runs) + (total > Shown ? string.Create(CultureInfo.InvariantCulture, $" and {total - Shown} more runs") : string.Empty);
    }

    /// <summary>
    /// Reads the counter byte of every page of <paramref name="range"/> from a guest RAM file
    /// (file offset = guest-physical address below 3 GiB on the pc machine) and checks them.
    /// The guest must be stopped, or the file is a moving target.
    /// </summary>
    public static async Task<MemoryInvariantResult> CheckRamFileAsync(string ramFile, PageCounterRange range, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(range);
        var counters = new byte[range.Pages];
        const int chunkPages = 256;
        var chunk = new byte[chunkPages * PageCounterRange.PageSize];
        using var handle = File.OpenHandle(ramFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        for (var first = 0; first < counters.Length; first += chunkPages)
        {
            var pages = Math.Min(chunkPages, counters.Length - first);
            var bytes = pages * PageCounterRange.PageSize;
            var offset = range.Start + ((long)first * PageCounterRange.PageSize);
            var read = 0;
            while (read < bytes)
            {
                var n = await RandomAccess.ReadAsync(handle, chunk.AsMemory(read, bytes - read), offset + read, cancellationToken);
                if (n == 0)
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{ramFile} ends before 0x{offset + read:x}; it is smaller than the checked range."));
                }

                read += n;
            }

            for (var i = 0; i < pages; i++)
            {
                counters[first + i] = chunk[i * PageCounterRange.PageSize];
            }
        }

        return Check(counters, range.Start);
    }
}
