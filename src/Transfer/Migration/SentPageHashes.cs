using System.IO.Hashing;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Migration;

/// <summary>
/// A hash of what was last sent of every page, kept by the streams as they send (each page belongs to
/// one stream, so no two threads write one entry), and the check of the frozen source RAM against it.
/// </summary>
internal sealed class SentPageHashes(long pageCount, int pageSize)
{
    private const int CheckBatchPages = 256;
    private const int MaxExamples = 8;

    private readonly ulong[] _hashes = new ulong[pageCount];
    private readonly ulong _zero = XxHash3.HashToUInt64(new byte[pageSize]);

    /// <summary>Records the pages of a window just read for sending.</summary>
    public void Sent(long firstPage, ReadOnlySpan<byte> pages)
    {
        for (int i = 0; i < pages.Length / pageSize; i++)
        {
            _hashes[firstPage + i] = XxHash3.HashToUInt64(pages.Slice(i * pageSize, pageSize));
        }
    }

    /// <summary>Records a range sent as zeros without being read (a hole of the RAM file).</summary>
    public void SentZero(PageRange range) => _hashes.AsSpan((int)range.First, (int)range.Count).Fill(_zero);

    /// <summary>Reads the whole RAM and compares each page with its last sent hash.</summary>
    public RamCheck Check(GuestMemory memory)
    {
        var buffer = new byte[CheckBatchPages * pageSize];
        long mismatched = 0;
        var examples = new List<long>();
        for (long first = 0; first < _hashes.Length; first += CheckBatchPages)
        {
            int pages = (int)Math.Min(CheckBatchPages, _hashes.Length - first);
            var window = buffer.AsSpan(0, pages * pageSize);
            memory.ReadPages(first, window);
            for (int i = 0; i < pages; i++)
            {
                if (XxHash3.HashToUInt64(window.Slice(i * pageSize, pageSize)) != _hashes[first + i])
                {
                    mismatched++;
                    if (examples.Count < MaxExamples)
                    {
                        examples.Add(first + i);
                    }
                }
            }
        }

        return new RamCheck(_hashes.Length, mismatched, examples);
    }
}
