using System.Buffers.Binary;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Protocol;
using Ferry.Transfer.Tests.Support;

namespace Ferry.Transfer.Tests.Protocol;

[Trait("Tier", "fast")]
public sealed class PageStreamReceiverTests
{
    [Fact]
    public void A_valid_stream_writes_exactly_the_sent_pages_and_zero_ranges()
    {
        using var harness = new ProtocolHarness(seed: 1);
        using var source = GuestMemory.CreateMemfd("source", harness.Memory.Size);
        MemoryPattern.Fill(source, seed: 2);
        var input = ProtocolHarness.Concat(
            harness.Hello(),
            ProtocolHarness.Frame(w => w.WritePages(source, [1, 5, 63])),
            ProtocolHarness.Frame(w => w.WriteZeroRanges([new PageRange(10, 4), new PageRange(62, 1)])),
            ProtocolHarness.Frame(w => w.WriteEndOfPass(0)),
            ProtocolHarness.Frame(w => w.WriteFinal(1)));

        var outcome = harness.Receive(input);

        Assert.True(outcome.Completed, outcome.ToString());
        Assert.Equal(1, outcome.FinalPass);
        for (long page = 0; page < ProtocolHarness.Pages; page++)
        {
            var actual = harness.Memory.GetPage(page).ToArray();
            byte[] expected = page is 1 or 5 or 63 ? source.GetPage(page).ToArray()
                : page is >= 10 and < 14 or 62 ? new byte[ProtocolHarness.PageSize]
                : harness.Snapshot.AsSpan((int)page * ProtocolHarness.PageSize, ProtocolHarness.PageSize).ToArray();
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"page {page}");
        }

        var replies = new FrameReader(new MemoryStream(harness.Replies.ToArray()), ProtocolHarness.PageSize);
        Assert.Equal(ReceiveError.None, replies.Read());
        Assert.Equal(FrameType.Challenge, replies.Type);
        Assert.Equal(ReceiveError.None, replies.Read());
        Assert.Equal(FrameType.Welcome, replies.Type);
        Assert.Equal(ReceiveError.None, replies.Read());
        Assert.Equal(FrameType.Ack, replies.Type);
        Assert.Equal((byte)FrameType.EndOfPass, replies.Payload[0]);
    }

    [Fact]
    public unsafe void Sparse_pages_replace_whole_pages_with_their_chunks_and_zeros_elsewhere()
    {
        using var harness = new ProtocolHarness(seed: 1);
        using var source = GuestMemory.CreateMemfd("source", harness.Memory.Size);
        // A packet buffer: header bytes and a 64-byte frame; a page with one byte at its very end; a dense page.
        source.GetPage(2)[0] = 7;
        source.GetPage(2)[20] = 1;
        source.GetPage(2).Slice(256, 64).Fill(0xAB);
        source.GetPage(9)[ProtocolHarness.PageSize - 1] = 9;
        new Random(5).NextBytes(source.GetPage(30));
        var masks = new Dictionary<long, ulong>();
        foreach (long page in new long[] { 2, 9, 30 })
        {
            if (Ferry.Transfer.Zero.SparsePage.TryGetMask(source.GetPagePointer(page), ProtocolHarness.PageSize, out ulong mask))
            {
                masks[page] = mask;
            }
        }

        Assert.Equal(new Dictionary<long, ulong> { [2] = 0b1_0001, [9] = 1UL << 63 }, masks);
        var input = ProtocolHarness.Concat(
            harness.Hello(),
            ProtocolHarness.Frame(w =>
            {
                foreach (var (page, mask) in masks)
                {
                    w.AddSparsePage(page, source.GetPage(page), mask);
                }

                w.FlushSparsePages();
            }),
            ProtocolHarness.Frame(w => w.WriteFinal(1)));

        var outcome = harness.Receive(input);

        Assert.True(outcome.Completed, outcome.ToString());
        for (long page = 0; page < ProtocolHarness.Pages; page++)
        {
            byte[] expected = page is 2 or 9 ? source.GetPage(page).ToArray()
                : harness.Snapshot.AsSpan((int)page * ProtocolHarness.PageSize, ProtocolHarness.PageSize).ToArray();
            Assert.True(expected.AsSpan().SequenceEqual(harness.Memory.GetPage(page)), $"page {page}");
        }
    }

    [Fact]
    public void Wrong_token_is_refused_before_any_page_is_written()
    {
        using var harness = new ProtocolHarness();
        var impostor = MigrationCredentials.CreateRandom(harness.Credentials.MigrationId);
        var input = ProtocolHarness.Concat(
            harness.Hello(impostor),
            ProtocolHarness.Frame(w => w.WriteZeroRanges([new PageRange(0, ProtocolHarness.Pages)])));

        var outcome = harness.Receive(input);

        Assert.Equal(ReceiveError.WrongToken, outcome.Error);
        Assert.True(harness.Unchanged);
        Assert.Equal(ReceiveError.WrongToken, ReadRefusal(harness));
    }

    [Fact]
    public void Wrong_migration_id_is_refused_before_any_page_is_written()
    {
        using var harness = new ProtocolHarness();
        var other = new MigrationCredentials(Guid.NewGuid(), harness.Credentials.Token);
        var input = ProtocolHarness.Concat(
            harness.Hello(other),
            ProtocolHarness.Frame(w => w.WriteZeroRanges([new PageRange(0, ProtocolHarness.Pages)])));

        var outcome = harness.Receive(input);

        Assert.Equal(ReceiveError.WrongMigration, outcome.Error);
        Assert.True(harness.Unchanged);
    }

    [Fact]
    public void Pages_before_the_handshake_are_refused()
    {
        using var harness = new ProtocolHarness();
        var input = ProtocolHarness.Frame(w => w.WriteZeroRanges([new PageRange(0, 1)]));

        Assert.Equal(ReceiveError.NotAuthenticated, harness.Receive(input).Error);
        Assert.True(harness.Unchanged);
    }

    [Fact]
    public void Device_state_before_the_handshake_is_refused_without_reading_it()
    {
        using var harness = new ProtocolHarness();
        var input = ProtocolHarness.Frame(w => w.WriteDeviceState(new byte[100_000]));

        Assert.Equal(ReceiveError.Oversized, harness.Receive(input).Error);
        Assert.Equal(WireFormat.HeaderSize, harness.ConsumedBytes);
    }

    [Fact]
    public void Device_state_after_the_handshake_is_kept()
    {
        using var harness = new ProtocolHarness();
        byte[] blob = [.. Enumerable.Range(0, 300_000).Select(i => (byte)i)];
        var input = ProtocolHarness.Concat(
            harness.Hello(),
            ProtocolHarness.Frame(w => w.WriteDeviceState(blob)),
            ProtocolHarness.Frame(w => w.WriteFinal(0)));
        var stream = new MemoryStream(input);
        using var receiver = harness.Receiver(new DuplexStream(stream, new MemoryStream()));

        Assert.True(receiver.Run().Completed);
        Assert.Equal(blob, receiver.DeviceState);
    }

    [Fact]
    public void A_geometry_mismatch_is_refused()
    {
        using var harness = new ProtocolHarness();

        Assert.Equal(ReceiveError.GeometryMismatch, harness.Receive(harness.Hello(pages: ProtocolHarness.Pages + 1)).Error);
        Assert.Equal(ReceiveError.GeometryMismatch, harness.Receive(harness.Hello(index: 2, streams: 2), streams: 2).Error);
        Assert.Equal(ReceiveError.GeometryMismatch, harness.Receive(harness.Hello(streams: 3), streams: 2).Error);
    }

    [Fact]
    public void One_page_outside_the_RAM_file_rejects_the_whole_batch()
    {
        using var harness = new ProtocolHarness();
        var payload = ProtocolHarness.PagesPayload(3, [0, 1, ProtocolHarness.Pages], 3 * ProtocolHarness.PageSize, 0xEE);
        var input = ProtocolHarness.Concat(harness.Hello(), ProtocolHarness.RawFrame(FrameType.Pages, payload));

        Assert.Equal(ReceiveError.OutOfRange, harness.Receive(input).Error);
        Assert.True(harness.Unchanged);
    }

    [Fact]
    public void A_page_on_a_stream_that_does_not_own_it_is_rejected()
    {
        using var harness = new ProtocolHarness();
        using var source = GuestMemory.CreateMemfd("source", 2L << 20);
        long foreignPage = StreamPartition.ChunkPages; // owned by stream 1 of 2
        var input = ProtocolHarness.Concat(
            harness.Hello(index: 0, streams: 2, pages: source.PageCount),
            ProtocolHarness.Frame(w => w.WritePages(source, [foreignPage])));
        using var destination = GuestMemory.CreateMemfd("dest", 2L << 20);
        using var receiver = harness.Receiver(new DuplexStream(new MemoryStream(input), new MemoryStream()), streams: 2, memory: destination);

        Assert.Equal(ReceiveError.WrongStream, receiver.Run().Error);
        Assert.Empty(destination.GetAllocatedRanges());
    }

    [Fact]
    public void A_length_beyond_any_frame_is_refused_without_reading_the_payload()
    {
        using var harness = new ProtocolHarness();
        var header = new byte[WireFormat.HeaderSize];
        BinaryPrimitives.WriteUInt16BigEndian(header, WireFormat.Magic);
        header[2] = WireFormat.Version;
        header[3] = (byte)FrameType.Pages;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), uint.MaxValue);
        var hello = harness.Hello();

        var outcome = harness.Receive(ProtocolHarness.Concat(hello, header, new byte[64]));

        Assert.Equal(ReceiveError.Oversized, outcome.Error);
        Assert.Equal(hello.Length + WireFormat.HeaderSize, harness.ConsumedBytes);
        Assert.True(harness.Unchanged);
    }

    [Fact]
    public void Another_protocol_version_is_refused()
    {
        using var harness = new ProtocolHarness();
        var hello = harness.Hello();
        hello[2] = WireFormat.Version + 1;

        Assert.Equal(ReceiveError.UnsupportedVersion, harness.Receive(hello).Error);
    }

    private static ReceiveError ReadRefusal(ProtocolHarness harness)
    {
        var reader = new FrameReader(new MemoryStream(harness.Replies.ToArray()), ProtocolHarness.PageSize);
        Assert.Equal(ReceiveError.None, reader.Read());
        if (reader.Type == FrameType.Challenge)
        {
            // A hello of the right migration is answered first; the refusal follows the proof.
            Assert.Equal(ReceiveError.None, reader.Read());
        }

        Assert.Equal(FrameType.Refused, reader.Type);
        return (ReceiveError)BinaryPrimitives.ReadUInt16BigEndian(reader.Payload);
    }
}
