using System.Buffers.Binary;
using System.IO.Hashing;

namespace Ferry.Transfer.Protocol;

/// <summary>
/// Frame layout (the header has not changed since version 1). Every frame is a 16-byte big-endian header followed by a payload:
/// <code>
/// 0  u16 magic 0xFE77    2  u8 version    3  u8 type
/// 4  u32 payload length  8  u64 XXH3-64 of (type, length, payload)
/// </code>
/// XXH3 is chosen over CRC-32C because it runs at tens of GB/s per core in .NET (far above any
/// link), and 64 bits make an undetected corrupt batch practically impossible; hashing
/// type and length first binds the header to the payload. It guards against corruption and bugs, not
/// against an attacker who can also forge the handshake token (that needs TLS on the link).
/// <para>
/// Version 2 added <see cref="FrameType.SparsePages"/>: <c>u32 count</c>, then per page
/// <c>u64 index, u64 chunk mask</c> and the present chunks (page size / 64 bytes each); the
/// chunks whose bit is clear are zero.
/// </para>
/// <para>
/// Version 3 made the handshake a challenge–response, so the token never travels: the source's
/// <see cref="FrameType.Hello"/> carries the migration id, a source nonce and the geometry; the
/// destination answers <see cref="FrameType.Challenge"/> with its own nonce and its proof of the
/// token; the source checks that proof (a destination without the token gets no page) and answers
/// <see cref="FrameType.Proof"/>; only then does the destination say
/// <see cref="FrameType.Welcome"/> and give the connection a stream slot. Proofs are
/// HMAC-SHA256 under the token of a role label, the migration id, both nonces and the geometry
/// (<see cref="MigrationCredentials"/>), so neither can be replayed on another connection, stream
/// or migration, nor one role's proof used as the other's. A peer of another version is refused
/// at its first frame, and the error names both versions.
/// </para>
/// </summary>
public static class WireFormat
{
    /// <summary>First two bytes of every frame.</summary>
    public const ushort Magic = 0xFE77;

    /// <summary>The protocol version this build speaks.</summary>
    public const byte Version = 3;

    /// <summary>Size of the frame header in bytes.</summary>
    public const int HeaderSize = 16;

    /// <summary>Size of the per-migration token in bytes.</summary>
    public const int TokenSize = 32;

    /// <summary>Size of each side's handshake nonce in bytes.</summary>
    public const int NonceSize = 32;

    /// <summary>Size of a handshake proof (HMAC-SHA256) in bytes.</summary>
    public const int ProofSize = 32;

    /// <summary>Size of the geometry the handshake binds: page size, page count, stream index and stream count.</summary>
    public const int GeometrySize = 4 + 8 + 2 + 2;

    /// <summary>Size of the hello payload in bytes: migration id, source nonce, geometry.</summary>
    public const int HelloSize = 16 + NonceSize + GeometrySize;

    /// <summary>Size of the challenge payload in bytes: the destination's nonce and its proof.</summary>
    public const int ChallengeSize = NonceSize + ProofSize;

    /// <summary>Upper bound of page data in one batch; keeps the receive buffer fixed and small.</summary>
    public const int MaxBatchDataBytes = 1 << 20;

    /// <summary>Upper bound of zero ranges in one frame.</summary>
    public const int MaxZeroRangesPerFrame = 4096;

    /// <summary>Upper bound of pages in one sparse-pages frame (whose payload also stays within <see cref="MaxPagesPayload"/>).</summary>
    public const int MaxSparsePagesPerFrame = 4096;

    /// <summary>Bytes before a sparse page's chunks: its index and its chunk mask.</summary>
    public const int SparseEntryHeaderSize = 16;

    /// <summary>Upper bound of a device-state blob.</summary>
    public const int MaxDeviceStateBytes = 64 << 20;

    /// <summary>Upper bound of streams in one migration.</summary>
    public const int MaxStreams = 64;

    /// <summary>Pages per batch for a page size (at least one).</summary>
    /// <param name="pageSize">Page size in bytes.</param>
    public static int MaxPagesPerBatch(int pageSize) => Math.Max(1, MaxBatchDataBytes / pageSize);

    /// <summary>Largest payload a page batch can have for a page size.</summary>
    /// <param name="pageSize">Page size in bytes.</param>
    public static int MaxPagesPayload(int pageSize) => 4 + MaxPagesPerBatch(pageSize) * (8 + pageSize);

    /// <summary>Largest payload any frame other than device state may have for a page size.</summary>
    /// <param name="pageSize">Page size in bytes.</param>
    public static int MaxPayload(int pageSize) => Math.Max(MaxPagesPayload(pageSize), 4 + MaxZeroRangesPerFrame * 16);

    /// <summary>The checksum of a payload under a header.</summary>
    /// <param name="type">Frame type.</param>
    /// <param name="payload">Payload bytes.</param>
    public static ulong Checksum(FrameType type, ReadOnlySpan<byte> payload) =>
        Checksum(t_hasher ??= new XxHash3(), type, payload, default);

    /// <summary>Writes a header for a payload that is already in place.</summary>
    /// <param name="header">Destination, at least <see cref="HeaderSize"/> bytes.</param>
    /// <param name="type">Frame type.</param>
    /// <param name="payload">The payload the header describes.</param>
    public static void WriteHeader(Span<byte> header, FrameType type, ReadOnlySpan<byte> payload) =>
        WriteHeader(header, type, payload.Length, Checksum(type, payload));

    /// <summary>
    /// XXH3-64 over (type, length) followed by the payload, which may come in two parts so a
    /// page run can be hashed where it lies, without copying it behind its prefix.
    /// </summary>
    internal static ulong Checksum(XxHash3 hasher, FrameType type, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        Span<byte> binding = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(binding, (uint)type);
        BinaryPrimitives.WriteUInt32BigEndian(binding[4..], (uint)(first.Length + second.Length));
        hasher.Reset();
        hasher.Append(binding);
        hasher.Append(first);
        hasher.Append(second);
        return hasher.GetCurrentHashAsUInt64();
    }

    internal static void WriteHeader(Span<byte> header, FrameType type, int payloadLength, ulong checksum)
    {
        BinaryPrimitives.WriteUInt16BigEndian(header, Magic);
        header[2] = Version;
        header[3] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)payloadLength);
        BinaryPrimitives.WriteUInt64BigEndian(header[8..], checksum);
    }

    [ThreadStatic]
    private static XxHash3? t_hasher;
}
