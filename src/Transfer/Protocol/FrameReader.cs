using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Ferry.Transfer.Protocol;

/// <summary>
/// Reads frames from a hostile stream. The header is validated (magic, version, type, a
/// per-type length limit) before any payload byte is read, so a forged length can neither
/// allocate nor over-read; the payload is checked against its checksum before anyone sees it.
/// </summary>
[SkipLocalsInit]
public sealed class FrameReader : IDisposable
{
    private readonly Stream _stream;
    private readonly int _pageSize;
    private readonly XxHash3 _hasher = new();
    private byte[]? _buffer;
    private byte[]? _large;
    private int _length;
    private bool _useLarge;

    /// <summary>Creates a reader for a stream and page size.</summary>
    /// <param name="stream">The connection.</param>
    /// <param name="pageSize">Page size of the RAM being moved.</param>
    public FrameReader(Stream stream, int pageSize)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _pageSize = pageSize;
        _buffer = ArrayPool<byte>.Shared.Rent(WireFormat.MaxPayload(pageSize));
    }

    /// <summary>Whether device-state frames (up to 64 MiB) are accepted; off until the peer is authenticated.</summary>
    public bool AllowDeviceState { get; set; }

    /// <summary>Type of the last frame read.</summary>
    public FrameType Type { get; private set; }

    /// <summary>Payload of the last frame read; valid until the next read.</summary>
    public ReadOnlySpan<byte> Payload => (_useLarge ? _large : _buffer).AsSpan(0, _length);

    /// <summary>Bytes read so far, headers included.</summary>
    public long BytesRead { get; private set; }

    /// <summary>The protocol version the last header declared (so a refusal of another version can name it).</summary>
    public byte PeerVersion { get; private set; }

    /// <summary>Reads the next frame.</summary>
    /// <returns><see cref="ReceiveError.None"/> or why the stream cannot be trusted any more.</returns>
    public ReceiveError Read()
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        Span<byte> header = stackalloc byte[WireFormat.HeaderSize];
        int got = ReadFully(header);
        if (got == 0)
        {
            return ReceiveError.EndOfStream;
        }

        if (got < header.Length)
        {
            return ReceiveError.Truncated;
        }

        if (BinaryPrimitives.ReadUInt16BigEndian(header) != WireFormat.Magic)
        {
            return ReceiveError.BadMagic;
        }

        PeerVersion = header[2];
        if (header[2] != WireFormat.Version)
        {
            return ReceiveError.UnsupportedVersion;
        }

        var type = (FrameType)header[3];
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        ulong checksum = BinaryPrimitives.ReadUInt64BigEndian(header[8..]);
        long limit = LimitOf(type);
        if (limit < 0)
        {
            return ReceiveError.UnknownType;
        }

        if (length > limit)
        {
            return ReceiveError.Oversized;
        }

        _useLarge = type == FrameType.DeviceState && length > _buffer.Length;
        if (_useLarge && (_large is null || _large.Length < length))
        {
            if (_large is not null)
            {
                ArrayPool<byte>.Shared.Return(_large);
            }

            _large = ArrayPool<byte>.Shared.Rent((int)length);
        }

        Type = type;
        _length = (int)length;
        var payload = (_useLarge ? _large : _buffer).AsSpan(0, _length);
        if (ReadFully(payload) < payload.Length)
        {
            return ReceiveError.Truncated;
        }

        BytesRead += WireFormat.HeaderSize + length;
        return WireFormat.Checksum(_hasher, type, payload, default) == checksum ? ReceiveError.None : ReceiveError.ChecksumMismatch;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (_large is { } large)
        {
            _large = null;
            ArrayPool<byte>.Shared.Return(large);
        }
    }

    private long LimitOf(FrameType type) => type switch
    {
        FrameType.Hello => WireFormat.HelloSize,
        FrameType.Challenge => WireFormat.ChallengeSize,
        FrameType.Proof => WireFormat.ProofSize,
        FrameType.Welcome or FrameType.Running or FrameType.SwitchoverSoon => 0,
        FrameType.Refused or FrameType.Abort => 2,
        FrameType.Pages or FrameType.SparsePages => WireFormat.MaxPagesPayload(_pageSize),
        FrameType.ZeroRanges => 4 + WireFormat.MaxZeroRangesPerFrame * 16,
        FrameType.EndOfPass or FrameType.Final => 4,
        FrameType.Ack => 5,
        FrameType.DeviceState => AllowDeviceState ? WireFormat.MaxDeviceStateBytes : 0,
        _ => -1,
    };

    private int ReadFully(Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = _stream.Read(destination[total..]);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
