using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Ferry.Transfer.Protocol;

/// <summary>
/// What binds a page stream to one migration: its id, a per-migration secret token that never
/// travels (each side proves it holds the token with an HMAC over the handshake, see
/// <see cref="WireFormat"/>), and optionally the one address the source connects from.
/// </summary>
public sealed class MigrationCredentials
{
    private static readonly byte[] SourceLabel = Encoding.ASCII.GetBytes("ferry page stream v3 source proof");
    private static readonly byte[] DestinationLabel = Encoding.ASCII.GetBytes("ferry page stream v3 destination proof");

    private readonly byte[] _token;

    /// <summary>Creates credentials from an id and a token of <see cref="WireFormat.TokenSize"/> bytes.</summary>
    /// <param name="migrationId">The migration id.</param>
    /// <param name="token">The secret token.</param>
    public MigrationCredentials(Guid migrationId, ReadOnlySpan<byte> token)
    {
        if (token.Length != WireFormat.TokenSize)
        {
            throw new ArgumentException($"Token must be {WireFormat.TokenSize} bytes.", nameof(token));
        }

        MigrationId = migrationId;
        _token = token.ToArray();
    }

    /// <summary>The migration id.</summary>
    public Guid MigrationId { get; }

    /// <summary>The token (stays in this process: the handshake proves it, never sends it).</summary>
    internal ReadOnlySpan<byte> Token => _token;

    /// <summary>
    /// The address the migration's source connects from; a destination closes a connection from any
    /// other before it reads a byte of it. Null accepts any address (the token still decides).
    /// </summary>
    public IPAddress? Source { get; init; }

    /// <summary>New credentials with a random token.</summary>
    /// <param name="migrationId">The migration id.</param>
    public static MigrationCredentials CreateRandom(Guid migrationId) =>
        new(migrationId, RandomNumberGenerator.GetBytes(WireFormat.TokenSize));

    /// <summary>Whether a connection from <paramref name="remote"/> may begin a handshake (IPv4-mapped IPv6 counts as IPv4).</summary>
    /// <param name="remote">The connection's remote end point.</param>
    public bool AcceptsPeer(EndPoint? remote)
    {
        if (Source is not { } source)
        {
            return true;
        }

        return remote is IPEndPoint { Address: var address } && Normalize(address).Equals(Normalize(source));
    }

    /// <summary>
    /// The proof one side gives: HMAC-SHA256 under the token of the role's label, the migration id,
    /// both nonces and the geometry the hello declared.
    /// </summary>
    internal void Prove(bool bySource, ReadOnlySpan<byte> sourceNonce, ReadOnlySpan<byte> destinationNonce, ReadOnlySpan<byte> geometry, Span<byte> proof)
    {
        Span<byte> transcript = stackalloc byte[64 + 16 + WireFormat.NonceSize * 2 + WireFormat.GeometrySize];
        transcript.Clear();
        var label = bySource ? SourceLabel : DestinationLabel;
        label.CopyTo(transcript);
        int at = 64;
        MigrationId.TryWriteBytes(transcript[at..], bigEndian: true, out _);
        at += 16;
        sourceNonce.CopyTo(transcript[at..]);
        at += WireFormat.NonceSize;
        destinationNonce.CopyTo(transcript[at..]);
        at += WireFormat.NonceSize;
        geometry.CopyTo(transcript[at..]);
        HMACSHA256.HashData(_token, transcript, proof);
    }

    /// <summary>Checks a proof; the compare takes the same time wherever it differs.</summary>
    internal bool Verify(bool bySource, ReadOnlySpan<byte> sourceNonce, ReadOnlySpan<byte> destinationNonce, ReadOnlySpan<byte> geometry, ReadOnlySpan<byte> proof)
    {
        Span<byte> expected = stackalloc byte[WireFormat.ProofSize];
        Prove(bySource, sourceNonce, destinationNonce, geometry, expected);
        return proof.Length == WireFormat.ProofSize && CryptographicOperations.FixedTimeEquals(expected, proof);
    }

    /// <summary>The geometry a hello declares, as the proofs bind it.</summary>
    internal static void WriteGeometry(Span<byte> geometry, int pageSize, long pageCount, int streamIndex, int streamCount)
    {
        BinaryPrimitives.WriteUInt32BigEndian(geometry, (uint)pageSize);
        BinaryPrimitives.WriteInt64BigEndian(geometry[4..], pageCount);
        BinaryPrimitives.WriteUInt16BigEndian(geometry[12..], (ushort)streamIndex);
        BinaryPrimitives.WriteUInt16BigEndian(geometry[14..], (ushort)streamCount);
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
