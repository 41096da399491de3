namespace Ferry.Transfer.Protocol;

/// <summary>The kinds of frame on a page stream. Values are part of the wire format.</summary>
public enum FrameType : byte
{
    /// <summary>Source → destination, first frame: migration id, the source's nonce and the RAM geometry (version 3: no token).</summary>
    Hello = 1,

    /// <summary>Destination → source: the handshake was accepted (after a valid <see cref="Proof"/>).</summary>
    Welcome = 2,

    /// <summary>Destination → source: the handshake was refused; carries a <see cref="ReceiveError"/>.</summary>
    Refused = 3,

    /// <summary>Source → destination: page indices followed by their contents.</summary>
    Pages = 4,

    /// <summary>Source → destination: page ranges that are all zero.</summary>
    ZeroRanges = 5,

    /// <summary>Source → destination: every page of a pass was sent on this stream.</summary>
    EndOfPass = 6,

    /// <summary>Source → destination: the final (stop-and-copy) pass on this stream is complete.</summary>
    Final = 7,

    /// <summary>Source → destination: an opaque device-state blob (e.g. QEMU's, with x-ignore-shared).</summary>
    DeviceState = 8,

    /// <summary>Destination → source: acknowledges an end-of-pass or the final marker.</summary>
    Ack = 9,

    /// <summary>Either way: the sender gives up; carries a <see cref="ReceiveError"/>.</summary>
    Abort = 10,

    /// <summary>Destination → source: the guest runs at the destination (ends the downtime).</summary>
    Running = 11,

    /// <summary>
    /// Source → destination: whole pages of which only the non-zero chunks travel (version 2):
    /// per page its index, a 64-bit mask of the chunks present, then those chunks in order.
    /// </summary>
    SparsePages = 12,

    /// <summary>
    /// Source → destination, no payload (version 2): the source has decided to switch over and is
    /// pausing the guest. The destination may get the incoming guest ready to start at once.
    /// </summary>
    SwitchoverSoon = 13,

    /// <summary>Destination → source, answering a hello (version 3): the destination's nonce and its proof of the token.</summary>
    Challenge = 14,

    /// <summary>Source → destination, answering a challenge (version 3): the source's proof of the token.</summary>
    Proof = 15,
}
