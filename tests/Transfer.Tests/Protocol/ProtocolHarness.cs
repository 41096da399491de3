using System.Buffers.Binary;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Protocol;
using Ferry.Transfer.Tests.Support;

namespace Ferry.Transfer.Tests.Protocol;

/// <summary>A small destination RAM with a known pattern, and helpers to feed its receiver bytes.</summary>
internal sealed class ProtocolHarness : IDisposable
{
    public const int PageSize = 4096;
    public const int Pages = 64;

    public ProtocolHarness(int seed = 1)
    {
        Memory = GuestMemory.CreateMemfd("dest", (long)Pages * PageSize);
        MemoryPattern.Fill(Memory, seed);
        Snapshot = MemoryPattern.Snapshot(Memory);
        Credentials = MigrationCredentials.CreateRandom(Guid.NewGuid());
    }

    public GuestMemory Memory { get; }

    public byte[] Snapshot { get; }

    public MigrationCredentials Credentials { get; }

    public MemoryStream Replies { get; } = new();

    public long ConsumedBytes { get; private set; }

    /// <summary>Same bytes, and the file neither grew nor shrank (pwrite past the end would grow it).</summary>
    public bool Unchanged => Memory.FileLength == Memory.Size && MemoryPattern.Equals(Memory, Snapshot);

    /// <summary>The destination nonce of every receiver the harness makes, so a recorded handshake can answer it.</summary>
    public static byte[] DestinationNonce { get; } = Enumerable.Range(1, WireFormat.NonceSize).Select(i => (byte)i).ToArray();

    /// <summary>A receiver on this harness's RAM whose challenge is <see cref="DestinationNonce"/>.</summary>
    public PageStreamReceiver Receiver(Stream stream, int streams = 1, GuestMemory? memory = null) =>
        new(memory ?? Memory, Credentials, stream, streams, null, null, null, DestinationNonce);

    public ReceiveOutcome Receive(byte[] input, int streams = 1)
    {
        var inputStream = new MemoryStream(input);
        using var receiver = Receiver(new DuplexStream(inputStream, Replies), streams);
        var outcome = receiver.Run();
        ConsumedBytes = inputStream.Position;
        return outcome;
    }

    /// <summary>
    /// The source's side of a handshake with this harness's credentials (or others), as stream
    /// <paramref name="index"/> of <paramref name="streams"/>: its hello, and its proof answering
    /// the challenge of a receiver made by <see cref="Receiver"/>.
    /// </summary>
    public byte[] Hello(MigrationCredentials? credentials = null, int index = 0, int streams = 1, long pages = Pages) =>
        SourceHandshake(credentials ?? Credentials, PageSize, pages, index, streams);

    /// <summary>A source's hello and proof for a receiver whose nonce is <see cref="DestinationNonce"/>.</summary>
    public static byte[] SourceHandshake(MigrationCredentials credentials, int pageSize, long pages, int index, int streams)
    {
        var sourceNonce = new byte[WireFormat.NonceSize];
        var geometry = new byte[WireFormat.GeometrySize];
        MigrationCredentials.WriteGeometry(geometry, pageSize, pages, index, streams);
        var proof = new byte[WireFormat.ProofSize];
        credentials.Prove(bySource: true, sourceNonce, DestinationNonce, geometry, proof);
        var stream = new MemoryStream();
        using var writer = new FrameWriter(stream, pageSize);
        writer.WriteHello(credentials.MigrationId, sourceNonce, pages, index, streams);
        writer.WriteProof(proof);
        return stream.ToArray();
    }

    public static byte[] Frame(Action<FrameWriter> write)
    {
        var stream = new MemoryStream();
        using var writer = new FrameWriter(stream, PageSize);
        write(writer);
        return stream.ToArray();
    }

    /// <summary>A frame with any payload and a correct checksum: the hardest input for a parser.</summary>
    public static byte[] RawFrame(FrameType type, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[WireFormat.HeaderSize + payload.Length];
        payload.CopyTo(frame.AsSpan(WireFormat.HeaderSize));
        WireFormat.WriteHeader(frame, type, payload);
        return frame;
    }

    public static byte[] PagesPayload(uint declaredCount, long[] indices, int dataBytes, byte fill)
    {
        var payload = new byte[4 + indices.Length * 8 + dataBytes];
        BinaryPrimitives.WriteUInt32BigEndian(payload, declaredCount);
        for (int i = 0; i < indices.Length; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(4 + i * 8), indices[i]);
        }

        payload.AsSpan(4 + indices.Length * 8).Fill(fill);
        return payload;
    }

    public static byte[] ZeroRangesPayload(uint declaredCount, (long First, long Count)[] ranges)
    {
        var payload = new byte[4 + ranges.Length * 16];
        BinaryPrimitives.WriteUInt32BigEndian(payload, declaredCount);
        for (int i = 0; i < ranges.Length; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(4 + i * 16), ranges[i].First);
            BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(12 + i * 16), ranges[i].Count);
        }

        return payload;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public void Dispose() => Memory.Dispose();
}
