using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Ferry.Transfer.Protocol;

/// <summary>The source's half of a page stream's handshake (see <see cref="WireFormat"/>).</summary>
public static class PageStreamHandshake
{
    /// <summary>
    /// Says hello, checks the destination's proof that it holds the token (a destination that
    /// cannot prove it gets nothing more), proves the source holds it, and waits to be welcomed.
    /// </summary>
    /// <param name="writer">The connection's writer.</param>
    /// <param name="reader">The connection's reader.</param>
    /// <param name="credentials">The migration's id and token.</param>
    /// <param name="pageSize">Page size of the RAM.</param>
    /// <param name="pageCount">Pages in the RAM.</param>
    /// <param name="streamIndex">This stream's index.</param>
    /// <param name="streamCount">Streams in the migration.</param>
    /// <returns>Null once welcomed; otherwise why the stream cannot be used.</returns>
    public static string? Offer(FrameWriter writer, FrameReader reader, MigrationCredentials credentials,
        int pageSize, long pageCount, int streamIndex, int streamCount)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(credentials);
        Span<byte> sourceNonce = stackalloc byte[WireFormat.NonceSize];
        RandomNumberGenerator.Fill(sourceNonce);
        Span<byte> geometry = stackalloc byte[WireFormat.GeometrySize];
        MigrationCredentials.WriteGeometry(geometry, pageSize, pageCount, streamIndex, streamCount);
        writer.WriteHello(credentials.MigrationId, sourceNonce, pageCount, streamIndex, streamCount);
        writer.Flush();

        if (Expect(reader, FrameType.Challenge) is { } problem)
        {
            return problem;
        }

        var challenge = reader.Payload;
        var destinationNonce = challenge[..WireFormat.NonceSize];
        if (!credentials.Verify(bySource: false, sourceNonce, destinationNonce, geometry, challenge[WireFormat.NonceSize..]))
        {
            return $"the destination could not prove it holds the migration's token ({ReceiveError.DestinationNotAuthenticated}): nothing was sent to it";
        }

        Span<byte> proof = stackalloc byte[WireFormat.ProofSize];
        credentials.Prove(bySource: true, sourceNonce, destinationNonce, geometry, proof);
        writer.WriteProof(proof);
        writer.Flush();
        return Expect(reader, FrameType.Welcome);
    }

    /// <summary>Why a peer's first frame was refused, naming both versions when they differ.</summary>
    /// <param name="error">The reader's error.</param>
    /// <param name="peerVersion">The version the peer's frame declared.</param>
    public static string Describe(ReceiveError error, byte peerVersion) => error == ReceiveError.UnsupportedVersion
        ? $"the peer speaks page-stream protocol version {peerVersion}, this side version {WireFormat.Version}: run the same Ferry version on both hosts"
        : error.ToString();

    private static string? Expect(FrameReader reader, FrameType expected)
    {
        var error = reader.Read();
        if (error != ReceiveError.None)
        {
            return $"handshake failed: {Describe(error, reader.PeerVersion)}";
        }

        if (reader.Type == FrameType.Refused)
        {
            var reason = reader.Payload.Length == 2 ? (ReceiveError)BinaryPrimitives.ReadUInt16BigEndian(reader.Payload) : ReceiveError.Malformed;
            return $"destination refused: {reason}";
        }

        return reader.Type == expected ? null : $"unexpected {reader.Type} during handshake";
    }
}
