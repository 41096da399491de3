using BenchmarkDotNet.Attributes;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Protocol;

namespace Ferry.Transfer.Benchmarks.Protocol;

/// <summary>Encoding one full page batch (copy + XXH3 + header) and decoding it (read + verify + apply into RAM).</summary>
[MemoryDiagnoser]
public class FrameBenchmarks
{
    private GuestMemory _source = null!;
    private GuestMemory _destination = null!;
    private long[] _pages = null!;
    private FrameWriter _nullWriter = null!;
    private MemoryStream _encoded = null!;
    private MemoryStream _encodedRuns = null!;
    private MigrationCredentials _credentials = null!;
    private byte[] _hello = null!;
    private readonly byte[] _window = new byte[WireFormat.MaxBatchDataBytes];

    [GlobalSetup]
    public void Setup()
    {
        _source = GuestMemory.CreateMemfd("bench-src", 64L << 20);
        _destination = GuestMemory.CreateMemfd("bench-dst", 64L << 20);
        new Random(1).NextBytes(_source.GetPage(0));
        for (long page = 1; page < _source.PageCount; page++)
        {
            _source.GetPage(0).CopyTo(_source.GetPage(page));
        }

        _pages = [.. Enumerable.Range(0, WireFormat.MaxPagesPerBatch(_source.PageSize)).Select(i => (long)i * 7 % _source.PageCount)];
        _nullWriter = new FrameWriter(Stream.Null, _source.PageSize);
        _credentials = MigrationCredentials.CreateRandom(Guid.NewGuid());
        // The source's half of a handshake, answering the fixed nonce the benchmark's receivers challenge with.
        var hello = new MemoryStream();
        var sourceNonce = new byte[WireFormat.NonceSize];
        var geometry = new byte[WireFormat.GeometrySize];
        MigrationCredentials.WriteGeometry(geometry, _source.PageSize, _source.PageCount, 0, 1);
        var proof = new byte[WireFormat.ProofSize];
        _credentials.Prove(bySource: true, sourceNonce, DestinationNonce, geometry, proof);
        using (var writer = new FrameWriter(hello, _source.PageSize))
        {
            writer.WriteHello(_credentials.MigrationId, sourceNonce, _source.PageCount, 0, 1);
            writer.WriteProof(proof);
        }

        _hello = hello.ToArray();
        _encoded = new MemoryStream();
        _encoded.Write(_hello);
        using (var writer = new FrameWriter(_encoded, _source.PageSize))
        {
            for (int i = 0; i < 16; i++)
            {
                writer.WritePages(_source, _pages);
            }

            writer.WriteFinal(0);
        }

        _encodedRuns = new MemoryStream();
        _encodedRuns.Write(_hello);
        using (var writer = new FrameWriter(_encodedRuns, _source.PageSize))
        {
            var run = new byte[WireFormat.MaxBatchDataBytes];
            for (int i = 0; i < 16; i++)
            {
                long first = i * (long)_pages.Length;
                _source.ReadPages(first, run);
                writer.WritePageRun(first, run);
            }

            writer.WriteFinal(0);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _nullWriter.Dispose();
        _source.Dispose();
        _destination.Dispose();
    }

    /// <summary>One batch of 256 scattered pages (1 MiB) encoded: copied out of the mapping, hashed, framed.</summary>
    [Benchmark]
    public void EncodeBatch() => _nullWriter.WritePages(_source, _pages);

    /// <summary>The engine's path: 256 consecutive pages read with pread into a buffer, hashed and framed in place.</summary>
    [Benchmark]
    public void ReadAndEncodePageRun()
    {
        _source.ReadPages(512, _window);
        _nullWriter.WritePageRun(512, _window);
    }

    /// <summary>Sixteen batches of scattered pages (16 MiB) decoded, verified and written (one pwrite per page).</summary>
    [Benchmark]
    public bool DecodeAndApply16ScatteredBatches() => Receive(_encoded);

    /// <summary>Sixteen runs of consecutive pages (16 MiB) decoded, verified and written (one pwrite per run).</summary>
    [Benchmark]
    public bool DecodeAndApply16PageRuns() => Receive(_encodedRuns);

    private static readonly byte[] DestinationNonce = new byte[WireFormat.NonceSize];

    private bool Receive(MemoryStream frames)
    {
        frames.Position = 0;
        using var receiver = new PageStreamReceiver(_destination, _credentials, new ReplySink(frames), 1, null, null, null, DestinationNonce);
        return receiver.Run().Completed;
    }

    /// <summary>Reads from the encoded frames, discards the receiver's answers.</summary>
    private sealed class ReplySink(Stream input) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => input.Length;

        public override long Position { get => input.Position; set => input.Position = value; }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => input.Read(buffer);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
        }
    }
}
