using FsCheck;
using FsCheck.Xunit;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Protocol;
using Ferry.Transfer.Tests.Support;

namespace Ferry.Transfer.Tests.Protocol;

/// <summary>
/// The receiver against frames a hostile or broken peer could send. Most carry a correct
/// checksum, so the parser's own bounds checks are what stands between them and the RAM file.
/// </summary>
[Trait("Tier", "fast")]
public sealed class HostileFrameProperties
{
    private const int Pages = ProtocolHarness.Pages;
    private const int PageSize = ProtocolHarness.PageSize;

    [Property(MaxTest = 300)]
    public void Random_bytes_after_the_handshake_never_change_memory(byte[] garbage)
    {
        using var harness = new ProtocolHarness();

        var outcome = harness.Receive(ProtocolHarness.Concat(harness.Hello(), garbage ?? []));

        Assert.False(outcome.Completed);
        Assert.True(harness.Unchanged);
    }

    [Property(MaxTest = 300)]
    public void Random_bytes_instead_of_a_handshake_are_refused(byte[] garbage)
    {
        using var harness = new ProtocolHarness();

        var outcome = harness.Receive(garbage ?? []);

        Assert.False(outcome.Completed);
        Assert.True(harness.Unchanged);
    }

    [Property(MaxTest = 400)]
    public void Page_batches_with_valid_checksums_are_applied_whole_or_not_at_all(
        uint declaredCount, long[] rawIndices, int dataPages, int dataSlack, byte fill)
    {
        using var harness = new ProtocolHarness();
        // Mix indices that are in range with hostile ones, and counts near and far from the truth.
        long[] indices = (rawIndices ?? []).Take(300).Select((v, i) => i % 3 == 0 ? v : Math.Abs(v % (Pages + 2))).ToArray();
        uint count = declaredCount % 4 == 0 ? declaredCount : (uint)indices.Length;
        int dataBytes = Math.Clamp((Math.Abs(dataPages) % (indices.Length + 2)) * PageSize + (dataSlack % 3 == 0 ? dataSlack % 17 : 0), 0, 2 << 20);
        byte value = (byte)(fill | 1);
        var payload = ProtocolHarness.PagesPayload(count, indices, dataBytes, value);
        var input = ProtocolHarness.Concat(harness.Hello(), ProtocolHarness.RawFrame(FrameType.Pages, payload),
            ProtocolHarness.Frame(w => w.WriteFinal(0)));

        var outcome = harness.Receive(input);

        bool valid = count >= 1 && count == indices.Length && count <= WireFormat.MaxPagesPerBatch(PageSize)
            && dataBytes == indices.Length * PageSize && indices.All(i => i >= 0 && i < Pages);
        Assert.Equal(valid, outcome.Completed);
        Assert.Equal(harness.Memory.Size, harness.Memory.FileLength);
        for (long page = 0; page < Pages; page++)
        {
            bool expectWritten = valid && indices.Contains(page);
            var actual = harness.Memory.GetPage(page);
            var before = harness.Snapshot.AsSpan((int)page * PageSize, PageSize);
            Assert.True(expectWritten ? actual.IndexOfAnyExcept(value) < 0 : actual.SequenceEqual(before), $"page {page}");
        }
    }

    [Property(MaxTest = 400)]
    public void Zero_ranges_with_valid_checksums_are_applied_whole_or_not_at_all(uint declaredCount, long[] firsts, long[] counts)
    {
        using var harness = new ProtocolHarness();
        firsts ??= [];
        counts ??= [];
        var ranges = firsts.Zip(counts).Take(50)
            .Select((r, i) => i % 2 == 0 ? r : (r.First % (Pages + 1), r.Second % (Pages / 2 + 1)))
            .ToArray();
        uint count = declaredCount % 4 == 0 ? declaredCount : (uint)ranges.Length;
        var input = ProtocolHarness.Concat(harness.Hello(),
            ProtocolHarness.RawFrame(FrameType.ZeroRanges, ProtocolHarness.ZeroRangesPayload(count, ranges)),
            ProtocolHarness.Frame(w => w.WriteFinal(0)));

        var outcome = harness.Receive(input);

        bool valid = count >= 1 && count == ranges.Length
            && ranges.All(r => r.Item1 >= 0 && r.Item1 < Pages && r.Item2 > 0 && r.Item2 <= Pages - r.Item1);
        Assert.Equal(valid, outcome.Completed);
        Assert.Equal(harness.Memory.Size, harness.Memory.FileLength);
        for (long page = 0; page < Pages; page++)
        {
            bool zeroed = valid && ranges.Any(r => page >= r.Item1 && page < r.Item1 + r.Item2);
            var actual = harness.Memory.GetPage(page);
            var before = harness.Snapshot.AsSpan((int)page * PageSize, PageSize);
            Assert.True(zeroed ? actual.IndexOfAnyExcept((byte)0) < 0 : actual.SequenceEqual(before), $"page {page}");
        }
    }

    [Property(MaxTest = 400)]
    public void Sparse_pages_with_valid_checksums_are_applied_whole_or_not_at_all(
        uint declaredCount, long[] rawIndices, ulong[] rawMasks, int slack, byte fill)
    {
        using var harness = new ProtocolHarness();
        const int Chunk = PageSize / 64;
        var entries = (rawIndices ?? []).Zip(rawMasks ?? []).Take(40)
            .Select((e, i) => (Page: i % 3 == 0 ? e.First : Math.Abs(e.First % (Pages + 2)), Mask: e.Second))
            .ToArray();
        uint count = declaredCount % 4 == 0 ? declaredCount : (uint)entries.Length;
        // Slack: bytes missing from or added after the last entry's chunks.
        int extra = slack % 3 == 0 ? slack % 9 : 0;
        byte value = (byte)(fill | 1);
        var payload = new List<byte>(new byte[4]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(payload), count);
        foreach (var (page, mask) in entries)
        {
            var head = new byte[16];
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(head, page);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(head.AsSpan(8), mask);
            payload.AddRange(head);
            payload.AddRange(Enumerable.Repeat(value, System.Numerics.BitOperations.PopCount(mask) * Chunk));
        }

        var bytes = payload.ToArray();
        bytes = extra >= 0 ? [.. bytes, .. new byte[extra]] : bytes[..Math.Max(0, bytes.Length + extra)];
        var input = ProtocolHarness.Concat(harness.Hello(), ProtocolHarness.RawFrame(FrameType.SparsePages, bytes),
            ProtocolHarness.Frame(w => w.WriteFinal(0)));

        var outcome = harness.Receive(input);

        bool valid = count >= 1 && count == entries.Length && extra == 0 && entries.All(e => e.Page >= 0 && e.Page < Pages);
        Assert.Equal(valid, outcome.Completed);
        Assert.Equal(harness.Memory.Size, harness.Memory.FileLength);
        for (long page = 0; page < Pages; page++)
        {
            var expected = harness.Snapshot.AsSpan((int)page * PageSize, PageSize).ToArray();
            var last = entries.LastOrDefault(e => e.Page == page);
            if (valid && entries.Any(e => e.Page == page))
            {
                for (int c = 0; c < 64; c++)
                {
                    expected.AsSpan(c * Chunk, Chunk).Fill((last.Mask & (1UL << c)) != 0 ? value : (byte)0);
                }
            }

            Assert.True(harness.Memory.GetPage(page).SequenceEqual(expected), $"page {page}");
        }
    }

    [Property(MaxTest = 300)]
    public void A_stream_cut_anywhere_never_completes_and_never_writes_part_of_a_batch(NonNegativeInt cut)
    {
        using var harness = new ProtocolHarness();
        using var source = GuestMemory.CreateMemfd("source", harness.Memory.Size);
        MemoryPattern.Fill(source, seed: 9);
        var hello = harness.Hello();
        var pages = ProtocolHarness.Frame(w => w.WritePages(source, [3, 4, 60]));
        var input = ProtocolHarness.Concat(hello, pages, ProtocolHarness.Frame(w => w.WriteFinal(0)));
        int at = cut.Get % input.Length;

        var outcome = harness.Receive(input[..at]);

        Assert.False(outcome.Completed);
        bool batchArrived = at >= hello.Length + pages.Length;
        for (long page = 0; page < Pages; page++)
        {
            var expected = batchArrived && page is 3 or 4 or 60 ? source.GetPage(page).ToArray()
                : harness.Snapshot.AsSpan((int)page * PageSize, PageSize).ToArray();
            Assert.True(harness.Memory.GetPage(page).SequenceEqual(expected), $"page {page}, cut at {at}");
        }
    }

    [Property(MaxTest = 300)]
    public void A_single_flipped_bit_in_a_batch_is_rejected(NonNegativeInt position, byte bit)
    {
        using var harness = new ProtocolHarness();
        using var source = GuestMemory.CreateMemfd("source", harness.Memory.Size);
        MemoryPattern.Fill(source, seed: 5);
        var hello = harness.Hello();
        var pages = ProtocolHarness.Frame(w => w.WritePages(source, [7, 8]));
        int at = position.Get % pages.Length;
        pages[at] ^= (byte)(1 << (bit % 8));

        var outcome = harness.Receive(ProtocolHarness.Concat(hello, pages, ProtocolHarness.Frame(w => w.WriteFinal(0))));

        Assert.False(outcome.Completed);
        Assert.True(harness.Unchanged);
    }
}
