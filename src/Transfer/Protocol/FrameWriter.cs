using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Protocol;

/// <summary>
/// Encodes frames onto a stream through one pooled buffer; nothing is allocated per page or
/// per frame. Page contents are copied out of guest memory once, so the checksum covers the
/// exact bytes sent even while the guest keeps writing.
/// </summary>
[SkipLocalsInit]
public sealed unsafe class FrameWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly int _pageSize;
    private readonly XxHash3 _hasher = new();
    private byte[]? _buffer;
    private byte[]? _sparse;
    private int _sparseCount;
    private int _sparseLength;

    /// <summary>Creates a writer for a stream and page size.</summary>
    /// <param name="stream">The connection.</param>
    /// <param name="pageSize">Page size of the RAM being moved.</param>
    public FrameWriter(Stream stream, int pageSize)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _pageSize = pageSize;
        _buffer = ArrayPool<byte>.Shared.Rent(WireFormat.HeaderSize + WireFormat.MaxPayload(pageSize));
    }

    /// <summary>Sparse pages added with <see cref="AddSparsePage"/> and not yet sent.</summary>
    public int PendingSparsePages => _sparseCount;

    /// <summary>Bytes written so far, headers included.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Pages one <see cref="WritePages"/> call may carry.</summary>
    public int MaxPagesPerBatch => WireFormat.MaxPagesPerBatch(_pageSize);

    /// <summary>Opens the handshake (source): the migration id, the source's nonce and the geometry; no secret.</summary>
    /// <param name="migrationId">The migration id.</param>
    /// <param name="sourceNonce">A fresh random nonce of <see cref="WireFormat.NonceSize"/> bytes.</param>
    /// <param name="pageCount">Pages in the RAM.</param>
    /// <param name="streamIndex">This stream's index.</param>
    /// <param name="streamCount">Streams in the migration.</param>
    public void WriteHello(Guid migrationId, ReadOnlySpan<byte> sourceNonce, long pageCount, int streamIndex, int streamCount)
    {
        if (sourceNonce.Length != WireFormat.NonceSize)
        {
            throw new ArgumentOutOfRangeException(nameof(sourceNonce), sourceNonce.Length, "A nonce is WireFormat.NonceSize bytes.");
        }

        var payload = Payload(WireFormat.HelloSize);
        migrationId.TryWriteBytes(payload, bigEndian: true, out _);
        sourceNonce.CopyTo(payload[16..]);
        MigrationCredentials.WriteGeometry(payload[(16 + WireFormat.NonceSize)..], _pageSize, pageCount, streamIndex, streamCount);
        Send(FrameType.Hello, WireFormat.HelloSize);
    }

    /// <summary>Answers a hello (destination): its own nonce and its proof of the token.</summary>
    /// <param name="destinationNonce">A fresh random nonce of <see cref="WireFormat.NonceSize"/> bytes.</param>
    /// <param name="proof">The destination's proof, <see cref="WireFormat.ProofSize"/> bytes.</param>
    public void WriteChallenge(ReadOnlySpan<byte> destinationNonce, ReadOnlySpan<byte> proof)
    {
        if (destinationNonce.Length != WireFormat.NonceSize || proof.Length != WireFormat.ProofSize)
        {
            throw new ArgumentOutOfRangeException(nameof(proof), "A challenge is a nonce and a proof of their sizes.");
        }

        var payload = Payload(WireFormat.ChallengeSize);
        destinationNonce.CopyTo(payload);
        proof.CopyTo(payload[WireFormat.NonceSize..]);
        Send(FrameType.Challenge, WireFormat.ChallengeSize);
    }

    /// <summary>Answers a challenge (source): its proof of the token.</summary>
    /// <param name="proof">The source's proof, <see cref="WireFormat.ProofSize"/> bytes.</param>
    public void WriteProof(ReadOnlySpan<byte> proof)
    {
        if (proof.Length != WireFormat.ProofSize)
        {
            throw new ArgumentOutOfRangeException(nameof(proof), proof.Length, "A proof is WireFormat.ProofSize bytes.");
        }

        proof.CopyTo(Payload(WireFormat.ProofSize));
        Send(FrameType.Proof, WireFormat.ProofSize);
    }

    /// <summary>Accepts the handshake.</summary>
    public void WriteWelcome() => Send(FrameType.Welcome, 0);

    /// <summary>Tells the destination the source is pausing the guest for the switch-over.</summary>
    public void WriteSwitchoverSoon() => Send(FrameType.SwitchoverSoon, 0);

    /// <summary>Tells the source the guest now runs at the destination.</summary>
    public void WriteRunning() => Send(FrameType.Running, 0);

    /// <summary>Refuses the handshake with a reason.</summary>
    /// <param name="reason">Why.</param>
    public void WriteRefused(ReceiveError reason) => WriteCode(FrameType.Refused, reason);

    /// <summary>Gives up the migration with a reason.</summary>
    /// <param name="reason">Why.</param>
    public void WriteAbort(ReceiveError reason) => WriteCode(FrameType.Abort, reason);

    /// <summary>Sends a batch of pages read from guest memory.</summary>
    /// <param name="memory">The source RAM.</param>
    /// <param name="pages">Page indices, at most <see cref="MaxPagesPerBatch"/>.</param>
    public void WritePages(GuestMemory memory, ReadOnlySpan<long> pages)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (pages.Length == 0 || pages.Length > MaxPagesPerBatch || memory.PageSize != _pageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(pages), pages.Length, "Batch size or page size out of range.");
        }

        int length = 4 + pages.Length * (8 + _pageSize);
        var payload = Payload(length);
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)pages.Length);
        var indices = payload[4..];
        var data = payload[(4 + pages.Length * 8)..];
        for (int i = 0; i < pages.Length; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(indices[(i * 8)..], pages[i]);
            new ReadOnlySpan<byte>(memory.GetPagePointer(pages[i]), _pageSize).CopyTo(data[(i * _pageSize)..]);
        }

        Send(FrameType.Pages, length);
    }

    /// <summary>
    /// Sends a run of consecutive pages whose contents sit in a private buffer (read with
    /// <see cref="GuestMemory.ReadPages"/>): hashed and written where they lie, never copied again.
    /// </summary>
    /// <param name="firstPage">Index of the first page.</param>
    /// <param name="data">Whole pages, at most <see cref="MaxPagesPerBatch"/>.</param>
    public void WritePageRun(long firstPage, ReadOnlySpan<byte> data)
    {
        int count = data.Length / _pageSize;
        if (count == 0 || count > MaxPagesPerBatch || data.Length % _pageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(data), data.Length, "A run must be 1..MaxPagesPerBatch whole pages.");
        }

        var prefix = Payload(4 + count * 8);
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)count);
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(prefix[(4 + i * 8)..], firstPage + i);
        }

        var head = _buffer.AsSpan(0, WireFormat.HeaderSize + prefix.Length);
        WireFormat.WriteHeader(head, FrameType.Pages, prefix.Length + data.Length,
            WireFormat.Checksum(_hasher, FrameType.Pages, prefix, data));
        _stream.Write(head);
        _stream.Write(data);
        BytesWritten += head.Length + data.Length;
    }

    /// <summary>
    /// Adds a page to the pending sparse-pages frame: its index, its chunk mask and the chunks
    /// the mask names. Sends the pending frame first when this page would not fit in it.
    /// </summary>
    /// <param name="page">Page index.</param>
    /// <param name="data">The whole page.</param>
    /// <param name="mask">Its non-zero chunks (from <see cref="Zero.SparsePage.TryGetMask"/>); chunks outside it must be zero.</param>
    public void AddSparsePage(long page, ReadOnlySpan<byte> data, ulong mask)
    {
        if (data.Length != _pageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(data), data.Length, "A sparse page is one whole page.");
        }

        int chunk = _pageSize / Zero.SparsePage.Chunks;
        int entry = WireFormat.SparseEntryHeaderSize + Zero.SparsePage.DataBytes(mask, _pageSize);
        _sparse ??= ArrayPool<byte>.Shared.Rent(WireFormat.HeaderSize + WireFormat.MaxPagesPayload(_pageSize));
        if (_sparseCount == WireFormat.MaxSparsePagesPerFrame || 4 + _sparseLength + entry > WireFormat.MaxPagesPayload(_pageSize))
        {
            FlushSparsePages();
        }

        var at = _sparse.AsSpan(WireFormat.HeaderSize + 4 + _sparseLength, entry);
        BinaryPrimitives.WriteInt64BigEndian(at, page);
        BinaryPrimitives.WriteUInt64BigEndian(at[8..], mask);
        int written = WireFormat.SparseEntryHeaderSize;
        for (ulong left = mask; left != 0; left &= left - 1)
        {
            int index = System.Numerics.BitOperations.TrailingZeroCount(left);
            data.Slice(index * chunk, chunk).CopyTo(at[written..]);
            written += chunk;
        }

        _sparseLength += entry;
        _sparseCount++;
    }

    /// <summary>Sends the pending sparse-pages frame, if any.</summary>
    public void FlushSparsePages()
    {
        if (_sparseCount == 0)
        {
            return;
        }

        int length = 4 + _sparseLength;
        var frame = _sparse.AsSpan(0, WireFormat.HeaderSize + length);
        BinaryPrimitives.WriteUInt32BigEndian(frame[WireFormat.HeaderSize..], (uint)_sparseCount);
        WireFormat.WriteHeader(frame, FrameType.SparsePages, length, WireFormat.Checksum(_hasher, FrameType.SparsePages, frame[WireFormat.HeaderSize..], default));
        _stream.Write(frame);
        BytesWritten += frame.Length;
        _sparseCount = 0;
        _sparseLength = 0;
    }

    /// <summary>Sends ranges of zero pages.</summary>
    /// <param name="ranges">At most <see cref="WireFormat.MaxZeroRangesPerFrame"/> ranges.</param>
    public void WriteZeroRanges(ReadOnlySpan<PageRange> ranges)
    {
        if (ranges.Length == 0 || ranges.Length > WireFormat.MaxZeroRangesPerFrame)
        {
            throw new ArgumentOutOfRangeException(nameof(ranges), ranges.Length, "Range count out of bounds.");
        }

        int length = 4 + ranges.Length * 16;
        var payload = Payload(length);
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)ranges.Length);
        for (int i = 0; i < ranges.Length; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(payload[(4 + i * 16)..], ranges[i].First);
            BinaryPrimitives.WriteInt64BigEndian(payload[(12 + i * 16)..], ranges[i].Count);
        }

        Send(FrameType.ZeroRanges, length);
    }

    /// <summary>Marks the end of a pass on this stream.</summary>
    /// <param name="pass">Pass number.</param>
    public void WriteEndOfPass(int pass) => WriteNumber(FrameType.EndOfPass, pass);

    /// <summary>Marks the end of the final pass on this stream.</summary>
    /// <param name="pass">Pass number of the final pass.</param>
    public void WriteFinal(int pass) => WriteNumber(FrameType.Final, pass);

    /// <summary>Acknowledges an end-of-pass or final marker.</summary>
    /// <param name="acknowledged">The frame type being acknowledged.</param>
    /// <param name="pass">Its pass number.</param>
    public void WriteAck(FrameType acknowledged, int pass)
    {
        var payload = Payload(5);
        payload[0] = (byte)acknowledged;
        BinaryPrimitives.WriteInt32BigEndian(payload[1..], pass);
        Send(FrameType.Ack, 5);
    }

    /// <summary>Sends an opaque device-state blob without copying it.</summary>
    /// <param name="blob">At most <see cref="WireFormat.MaxDeviceStateBytes"/> bytes.</param>
    public void WriteDeviceState(ReadOnlySpan<byte> blob)
    {
        if (blob.Length > WireFormat.MaxDeviceStateBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(blob), blob.Length, "Device state too large.");
        }

        Span<byte> header = stackalloc byte[WireFormat.HeaderSize];
        WireFormat.WriteHeader(header, FrameType.DeviceState, blob.Length, WireFormat.Checksum(_hasher, FrameType.DeviceState, blob, default));
        _stream.Write(header);
        _stream.Write(blob);
        BytesWritten += WireFormat.HeaderSize + blob.Length;
    }

    /// <summary>Flushes buffered bytes to the connection.</summary>
    public void Flush() => _stream.Flush();

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (_sparse is { } sparse)
        {
            _sparse = null;
            ArrayPool<byte>.Shared.Return(sparse);
        }
    }

    private void WriteCode(FrameType type, ReceiveError code)
    {
        BinaryPrimitives.WriteUInt16BigEndian(Payload(2), (ushort)code);
        Send(type, 2);
    }

    private void WriteNumber(FrameType type, int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(Payload(4), value);
        Send(type, 4);
    }

    private Span<byte> Payload(int length)
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        return _buffer.AsSpan(WireFormat.HeaderSize, length);
    }

    private void Send(FrameType type, int payloadLength)
    {
        var frame = _buffer.AsSpan(0, WireFormat.HeaderSize + payloadLength);
        WireFormat.WriteHeader(frame, type, payloadLength, WireFormat.Checksum(_hasher, type, frame[WireFormat.HeaderSize..], default));
        _stream.Write(frame);
        BytesWritten += frame.Length;
    }
}
