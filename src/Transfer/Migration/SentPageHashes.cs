using System.IO.Hashing;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Migration;

/// <summary>
/// A 128-bit hash of what was last sent of every page, kept by the streams as they send (each page
/// belongs to one stream, so no two threads write one entry). It serves two ends: a dirty pass can
/// leave out a page whose content did not change since it was sent (a tracker that reports whole
/// 2 MiB huge pages calls 511 unchanged 4 KiB pages dirty for one written), and the RAM check
/// compares the frozen source with it after the switch-over.
/// </summary>
internal sealed class SentPageHashes(long pageCount, int pageSize)
{
    private const int CheckBatchPages = 256;
    private const int MaxExamples = 8;

    private readonly UInt128[] _hashes = new UInt128[pageCount];
    private readonly UInt128 _zero = XxHash128.HashToUInt128(new byte[pageSize]);

    /// <summary>Records the pages of a window just read for sending.</summary>
    public void Sent(long firstPage, ReadOnlySpan<byte> pages)
    {
        for (int i = 0; i < pages.Length / pageSize; i++)
        {
            _hashes[firstPage + i] = XxHash128.HashToUInt128(pages.Slice(i * pageSize, pageSize));
        }
    }

    /// <summary>Records a range sent as zeros without being read (a hole of the RAM file).</summary>
    public void SentZero(PageRange range) => _hashes.AsSpan(checked((int)range.First), checked((int)range.Count)).Fill(_zero);

    /// <summary>
    /// For each page of a window just read, whether it differs from what was last sent of it (and records
    /// it as sent when it does): <paramref name="changed"/> gets one entry per page.
    /// </summary>
    public void Compare(long firstPage, ReadOnlySpan<byte> pages, Span<bool> changed)
    {
        for (int i = 0; i < pages.Length / pageSize; i++)
        {
            var hash = XxHash128.HashToUInt128(pages.Slice(i * pageSize, pageSize));
            changed[i] = hash != _hashes[firstPage + i];
            _hashes[firstPage + i] = hash;
        }
    }

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
                if (XxHash128.HashToUInt128(window.Slice(i * pageSize, pageSize)) != _hashes[first + i])
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
