namespace Ferry.Transfer.Protocol;

/// <summary>Why a receiver stopped reading a stream. Values travel in refusal and abort frames.</summary>
public enum ReceiveError : ushort
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The stream ended cleanly between frames.</summary>
    EndOfStream = 1,

    /// <summary>The stream ended inside a frame.</summary>
    Truncated = 2,

    /// <summary>The magic number is wrong: not a Ferry page stream.</summary>
    BadMagic = 3,

    /// <summary>The peer speaks another protocol version.</summary>
    UnsupportedVersion = 4,

    /// <summary>The frame type is unknown.</summary>
    UnknownType = 5,

    /// <summary>The declared payload length exceeds what this frame type may carry.</summary>
    Oversized = 6,

    /// <summary>The payload does not match its checksum.</summary>
    ChecksumMismatch = 7,

    /// <summary>The payload's own lengths or counts are inconsistent.</summary>
    Malformed = 8,

    /// <summary>A page index or range lies outside the RAM file.</summary>
    OutOfRange = 9,

    /// <summary>A frame other than hello arrived before the handshake.</summary>
    NotAuthenticated = 10,

    /// <summary>The hello names another migration.</summary>
    WrongMigration = 11,

    /// <summary>The peer's handshake proof does not match the token: it does not hold it.</summary>
    WrongToken = 12,

    /// <summary>Page size, page count or stream numbering differ from the destination's.</summary>
    GeometryMismatch = 13,

    /// <summary>A valid frame arrived where the protocol does not allow it.</summary>
    UnexpectedFrame = 14,

    /// <summary>The peer aborted the migration.</summary>
    PeerAborted = 15,

    /// <summary>A page arrived on a stream that does not own it.</summary>
    WrongStream = 16,

    /// <summary>The destination could not prove it holds the token: the source sends it nothing.</summary>
    DestinationNotAuthenticated = 17,

    /// <summary>The connection comes from an address other than the migration's source.</summary>
    WrongPeer = 18,
}
