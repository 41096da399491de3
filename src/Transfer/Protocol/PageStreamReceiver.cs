using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Zero;

namespace Ferry.Transfer.Protocol;

/// <summary>
/// The destination side of one page stream. It treats every byte as hostile: nothing but the
/// handshake (hello, then proof; see <see cref="WireFormat"/>) is accepted until the peer has
/// proved it holds the migration's token, and a frame is validated in full (every index, range
/// and length) before the first byte of it reaches the RAM file, so a rejected frame leaves the
/// RAM untouched.
/// </summary>
[SkipLocalsInit]
public sealed unsafe class PageStreamReceiver : IDisposable
{
    private readonly GuestMemory _memory;
    private readonly MigrationCredentials _credentials;
    private readonly FrameReader _reader;
    private readonly FrameWriter _writer;
    private readonly int _expectedStreams;
    private readonly Action<int>? _passCompleted;
    private readonly Func<int, bool>? _claimStream;
    private readonly Action? _switchoverSoon;
    private readonly byte[] _destinationNonce = new byte[WireFormat.NonceSize];
    private readonly byte[] _sourceNonce = new byte[WireFormat.NonceSize];
    private readonly byte[] _geometry = new byte[WireFormat.GeometrySize];
    private int _declaredIndex = -1;
    private bool _authenticated;

    /// <summary>Creates a receiver for one connection.</summary>
    /// <param name="memory">The destination RAM file.</param>
    /// <param name="credentials">The migration this destination expects.</param>
    /// <param name="stream">The connection.</param>
    /// <param name="expectedStreams">How many streams the migration uses.</param>
    /// <param name="passCompleted">Called with the pass number at each end-of-pass marker.</param>
    /// <param name="claimStream">Called with the declared stream index after authentication; false refuses a duplicate.</param>
    /// <param name="switchoverSoon">Called when the source announces that it is pausing the guest.</param>
    public PageStreamReceiver(GuestMemory memory, MigrationCredentials credentials, Stream stream,
        int expectedStreams = 1, Action<int>? passCompleted = null, Func<int, bool>? claimStream = null, Action? switchoverSoon = null)
        : this(memory, credentials, stream, expectedStreams, passCompleted, claimStream, switchoverSoon, destinationNonce: default)
    {
    }

    /// <summary>
    /// As the public constructor, with the destination's nonce given rather than drawn: only tests and
    /// benchmarks that replay a recorded stream need one they know in advance.
    /// </summary>
    internal PageStreamReceiver(GuestMemory memory, MigrationCredentials credentials, Stream stream,
        int expectedStreams, Action<int>? passCompleted, Func<int, bool>? claimStream, Action? switchoverSoon, ReadOnlySpan<byte> destinationNonce)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentOutOfRangeException.ThrowIfLessThan(expectedStreams, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(expectedStreams, WireFormat.MaxStreams);
        _memory = memory;
        _credentials = credentials;
        _expectedStreams = expectedStreams;
        _passCompleted = passCompleted;
        _claimStream = claimStream;
        _switchoverSoon = switchoverSoon;
        _reader = new FrameReader(stream, memory.PageSize);
        _writer = new FrameWriter(stream, memory.PageSize);
        if (destinationNonce.Length == WireFormat.NonceSize)
        {
            destinationNonce.CopyTo(_destinationNonce);
        }
        else
        {
            RandomNumberGenerator.Fill(_destinationNonce);
        }
    }

    /// <summary>Whether the peer has proved it holds the token and owns a stream slot.</summary>
    public bool Authenticated => _authenticated;

    /// <summary>The protocol version the peer's last frame declared (names the other side of a version refusal).</summary>
    public byte PeerVersion => _reader.PeerVersion;

    /// <summary>Stream index the authenticated peer declared, or -1 before the handshake.</summary>
    public int StreamIndex { get; private set; } = -1;

    /// <summary>Pages whose contents were written into the RAM file.</summary>
    public long PagesWritten { get; private set; }

    /// <summary>Pages zeroed from zero-range frames.</summary>
    public long ZeroPages { get; private set; }

    /// <summary>Bytes received, headers included.</summary>
    public long BytesReceived => _reader.BytesRead;

    /// <summary>The last device-state blob received, if any.</summary>
    public byte[]? DeviceState { get; private set; }

    /// <summary>The writer for answers on this connection (acks after the final pass).</summary>
    public FrameWriter Replies => _writer;

    /// <summary>
    /// Reads frames until the final marker, an error or the end of the stream. Never throws
    /// for bad input; I/O exceptions of the connection itself propagate.
    /// </summary>
    public ReceiveOutcome Run()
    {
        if (!_authenticated && Handshake() is var refused and not ReceiveError.None)
        {
            return new ReceiveOutcome(refused, -1);
        }

        while (true)
        {
            var error = _reader.Read();
            if (error != ReceiveError.None)
            {
                return new ReceiveOutcome(error == ReceiveError.EndOfStream ? ReceiveError.Truncated : error, -1);
            }

            var payload = _reader.Payload;
            switch (_reader.Type)
            {
                case FrameType.Pages:
                    error = ApplyPages(payload);
                    break;
                case FrameType.ZeroRanges:
                    error = ApplyZeroRanges(payload);
                    break;
                case FrameType.SparsePages:
                    error = ApplySparsePages(payload);
                    break;
                case FrameType.EndOfPass when payload.Length == 4:
                    int pass = BinaryPrimitives.ReadInt32BigEndian(payload);
                    _passCompleted?.Invoke(pass);
                    _writer.WriteAck(FrameType.EndOfPass, pass);
                    _writer.Flush();
                    break;
                case FrameType.Final when payload.Length == 4:
                    return new ReceiveOutcome(ReceiveError.None, BinaryPrimitives.ReadInt32BigEndian(payload));
                case FrameType.DeviceState:
                    DeviceState = payload.ToArray();
                    break;
                case FrameType.SwitchoverSoon:
                    _switchoverSoon?.Invoke();
                    break;
                case FrameType.Abort:
                    return new ReceiveOutcome(ReceiveError.PeerAborted, -1);
                case FrameType.EndOfPass or FrameType.Final:
                    error = ReceiveError.Malformed;
                    break;
                default:
                    error = ReceiveError.UnexpectedFrame;
                    break;
            }

            if (error != ReceiveError.None)
            {
                TryAbort(error);
                return new ReceiveOutcome(error, -1);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _reader.Dispose();
        _writer.Dispose();
    }

    /// <summary>
    /// Runs the destination's half of the handshake: reads the hello, answers with a challenge that
    /// proves this side holds the token, checks the source's proof, claims the declared stream and
    /// welcomes it. Never throws for bad input (I/O exceptions of the connection propagate); a refused
    /// peer gets a refusal frame and nothing else, and has taken no stream slot.
    /// </summary>
    public ReceiveError Handshake()
    {
        while (!_authenticated)
        {
            var error = _reader.Read();
            if (error != ReceiveError.None)
            {
                if (error == ReceiveError.UnsupportedVersion)
                {
                    // Older and newer peers alike read the refusal's header and name both versions.
                    TryRefuse(error);
                }

                return error;
            }

            error = (_reader.Type, _declaredIndex) switch
            {
                (FrameType.Hello, -1) => OnHello(_reader.Payload),
                (FrameType.Proof, >= 0) => OnProof(_reader.Payload),
                _ => ReceiveError.NotAuthenticated,
            };
            if (error != ReceiveError.None)
            {
                TryRefuse(error);
                return error;
            }
        }

        return ReceiveError.None;
    }

    private ReceiveError OnHello(ReadOnlySpan<byte> hello)
    {
        if (hello.Length != WireFormat.HelloSize)
        {
            return ReceiveError.Malformed;
        }

        if (new Guid(hello[..16], bigEndian: true) != _credentials.MigrationId)
        {
            return ReceiveError.WrongMigration;
        }

        var geometry = hello.Slice(16 + WireFormat.NonceSize, WireFormat.GeometrySize);
        uint pageSize = BinaryPrimitives.ReadUInt32BigEndian(geometry);
        long pageCount = BinaryPrimitives.ReadInt64BigEndian(geometry[4..]);
        int index = BinaryPrimitives.ReadUInt16BigEndian(geometry[12..]);
        int count = BinaryPrimitives.ReadUInt16BigEndian(geometry[14..]);
        if (pageSize != (uint)_memory.PageSize || pageCount != _memory.PageCount
            || count != _expectedStreams || index >= count)
        {
            return ReceiveError.GeometryMismatch;
        }

        hello.Slice(16, WireFormat.NonceSize).CopyTo(_sourceNonce);
        geometry.CopyTo(_geometry);
        _declaredIndex = index;
        Span<byte> proof = stackalloc byte[WireFormat.ProofSize];
        _credentials.Prove(bySource: false, _sourceNonce, _destinationNonce, _geometry, proof);
        _writer.WriteChallenge(_destinationNonce, proof);
        _writer.Flush();
        return ReceiveError.None;
    }

    private ReceiveError OnProof(ReadOnlySpan<byte> proof)
    {
        if (!_credentials.Verify(bySource: true, _sourceNonce, _destinationNonce, _geometry, proof))
        {
            return ReceiveError.WrongToken;
        }

        if (_claimStream is not null && !_claimStream(_declaredIndex))
        {
            return ReceiveError.GeometryMismatch;
        }

        _authenticated = true;
        _reader.AllowDeviceState = true;
        StreamIndex = _declaredIndex;
        _writer.WriteWelcome();
        _writer.Flush();
        return ReceiveError.None;
    }

    private ReceiveError ApplyPages(ReadOnlySpan<byte> payload)
    {
        int pageSize = _memory.PageSize;
        if (payload.Length < 4)
        {
            return ReceiveError.Malformed;
        }

        uint count = BinaryPrimitives.ReadUInt32BigEndian(payload);
        if (count == 0 || count > (uint)WireFormat.MaxPagesPerBatch(pageSize)
            || payload.Length != 4 + (long)count * (8 + pageSize))
        {
            return ReceiveError.Malformed;
        }

        var indices = payload.Slice(4, (int)count * 8);
        for (int i = 0; i < (int)count; i++)
        {
            var error = CheckPage(BinaryPrimitives.ReadInt64BigEndian(indices[(i * 8)..]));
            if (error != ReceiveError.None)
            {
                return error;
            }
        }

        // pwrite, not a copy into the mapping: no page faults here, and consecutive pages go in one call.
        var data = payload[(4 + (int)count * 8)..];
        int runStart = 0;
        for (int i = 1; i <= (int)count; i++)
        {
            long first = BinaryPrimitives.ReadInt64BigEndian(indices[(runStart * 8)..]);
            if (i < (int)count && BinaryPrimitives.ReadInt64BigEndian(indices[(i * 8)..]) == first + (i - runStart))
            {
                continue;
            }

            _memory.WritePages(first, data.Slice(runStart * pageSize, (i - runStart) * pageSize));
            runStart = i;
        }

        PagesWritten += count;
        return ReceiveError.None;
    }

    /// <summary>
    /// Checks every entry (index in range and on this stream, mask and length consistent, the
    /// payload used exactly) before the first page is touched; then writes each page whole through
    /// the mapping: its chunks where the mask says, zeros elsewhere. Sparse pages are the hot ones
    /// a guest re-dirties, so their mapping is warm after the first pass that carries them, and a
    /// copy beats one pwrite per scattered page.
    /// </summary>
    private ReceiveError ApplySparsePages(ReadOnlySpan<byte> payload)
    {
        int pageSize = _memory.PageSize;
        int chunk = pageSize / SparsePage.Chunks;
        if (payload.Length < 4)
        {
            return ReceiveError.Malformed;
        }

        uint count = BinaryPrimitives.ReadUInt32BigEndian(payload);
        if (count == 0 || count > WireFormat.MaxSparsePagesPerFrame)
        {
            return ReceiveError.Malformed;
        }

        int at = 4;
        for (int i = 0; i < (int)count; i++)
        {
            if (payload.Length - at < WireFormat.SparseEntryHeaderSize)
            {
                return ReceiveError.Malformed;
            }

            var error = CheckPage(BinaryPrimitives.ReadInt64BigEndian(payload[at..]));
            if (error != ReceiveError.None)
            {
                return error;
            }

            int data = SparsePage.DataBytes(BinaryPrimitives.ReadUInt64BigEndian(payload[(at + 8)..]), pageSize);
            if (payload.Length - at - WireFormat.SparseEntryHeaderSize < data)
            {
                return ReceiveError.Malformed;
            }

            at += WireFormat.SparseEntryHeaderSize + data;
        }

        if (at != payload.Length)
        {
            return ReceiveError.Malformed;
        }

        at = 4;
        for (int i = 0; i < (int)count; i++)
        {
            var page = new Span<byte>(_memory.GetPagePointer(BinaryPrimitives.ReadInt64BigEndian(payload[at..])), pageSize);
            ulong mask = BinaryPrimitives.ReadUInt64BigEndian(payload[(at + 8)..]);
            at += WireFormat.SparseEntryHeaderSize;
            for (int c = 0; c < SparsePage.Chunks; c++)
            {
                var target = page.Slice(c * chunk, chunk);
                if ((mask & (1UL << c)) == 0)
                {
                    target.Clear();
                    continue;
                }

                payload.Slice(at, chunk).CopyTo(target);
                at += chunk;
            }
        }

        PagesWritten += count;
        return ReceiveError.None;
    }

    private ReceiveError ApplyZeroRanges(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 4)
        {
            return ReceiveError.Malformed;
        }

        uint count = BinaryPrimitives.ReadUInt32BigEndian(payload);
        if (count == 0 || count > WireFormat.MaxZeroRangesPerFrame || payload.Length != 4 + (long)count * 16)
        {
            return ReceiveError.Malformed;
        }

        for (int i = 0; i < (int)count; i++)
        {
            long first = BinaryPrimitives.ReadInt64BigEndian(payload[(4 + i * 16)..]);
            long pages = BinaryPrimitives.ReadInt64BigEndian(payload[(12 + i * 16)..]);
            var error = CheckRange(first, pages);
            if (error != ReceiveError.None)
            {
                return error;
            }
        }

        for (int i = 0; i < (int)count; i++)
        {
            long first = BinaryPrimitives.ReadInt64BigEndian(payload[(4 + i * 16)..]);
            long pages = BinaryPrimitives.ReadInt64BigEndian(payload[(12 + i * 16)..]);
            _memory.ZeroPages(new PageRange(first, pages));
            ZeroPages += pages;
        }

        return ReceiveError.None;
    }

    private ReceiveError CheckPage(long page)
    {
        if ((ulong)page >= (ulong)_memory.PageCount)
        {
            return ReceiveError.OutOfRange;
        }

        return StreamPartition.StreamOf(page, _expectedStreams) == StreamIndex ? ReceiveError.None : ReceiveError.WrongStream;
    }

    private ReceiveError CheckRange(long first, long pages)
    {
        // Unsigned compares reject negative values; the subtraction cannot overflow.
        if ((ulong)first >= (ulong)_memory.PageCount || pages <= 0 || pages > _memory.PageCount - first)
        {
            return ReceiveError.OutOfRange;
        }

        if (_expectedStreams > 1 && (StreamPartition.StreamOf(first, _expectedStreams) != StreamIndex
            || first + pages > StreamPartition.ChunkEnd(first)))
        {
            return ReceiveError.WrongStream;
        }

        return ReceiveError.None;
    }

    private void TryRefuse(ReceiveError error)
    {
        try
        {
            _writer.WriteRefused(error);
            _writer.Flush();
        }
        catch (IOException)
        {
            // The peer may already be gone; the refusal is a courtesy.
        }
        catch (NotSupportedException)
        {
            // Read-only test streams cannot carry an answer.
        }
    }

    private void TryAbort(ReceiveError error)
    {
        try
        {
            _writer.WriteAbort(error);
            _writer.Flush();
        }
        catch (IOException)
        {
            // As above: best effort.
        }
        catch (NotSupportedException)
        {
            // As above.
        }
    }
}
