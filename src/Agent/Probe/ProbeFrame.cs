using System.Buffers.Binary;
using System.Net.NetworkInformation;

namespace Ferry.Agent.Probe;

/// <summary>
/// The probe's Ethernet frame: destination and source MAC, the IEEE local experimental EtherType
/// 0x88B5, the magic "FRRY", a stream id and a sequence number (both big-endian), then a payload
/// derived from the sequence number, so a frame that reaches the sink with bytes the guest or a
/// migration garbled is told apart from an intact one.
/// The minimum length is 60 bytes, which is a 64-byte frame on the wire once the NIC adds the FCS,
/// the frame size of the origin document's pktgen runs.
/// </summary>
public static class ProbeFrame
{
    public const ushort EtherType = 0x88B5;

    /// <summary>60 bytes handed to the NIC, 64 on the wire with the FCS.</summary>
    public const int MinimumLength = 60;

    public const int HeaderLength = 30;

    private const uint Magic = 0x46525259; // "FRRY"
    private const int EtherTypeOffset = 12;
    private const int MagicOffset = 14;
    private const int StreamOffset = 18;
    private const int SequenceOffset = 22;

    /// <summary>Writes a whole frame with sequence number <paramref name="sequence"/> into <paramref name="frame"/>.</summary>
    public static void Write(Span<byte> frame, ProbeStream stream, ulong sequence)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (frame.Length < MinimumLength)
        {
            throw new ArgumentException($"A probe frame needs at least {MinimumLength} bytes.", nameof(frame));
        }

        stream.Destination.GetAddressBytes().CopyTo(frame);
        stream.Source.GetAddressBytes().CopyTo(frame[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[EtherTypeOffset..], EtherType);
        BinaryPrimitives.WriteUInt32BigEndian(frame[MagicOffset..], Magic);
        BinaryPrimitives.WriteUInt32BigEndian(frame[StreamOffset..], stream.Id);
        frame[MinimumLength..].Clear();
        SetSequence(frame, sequence);
    }

    /// <summary>Rewrites the sequence number and its payload in a frame made by <see cref="Write"/>; the generator's per-frame work.</summary>
    public static void SetSequence(Span<byte> frame, ulong sequence)
    {
        BinaryPrimitives.WriteUInt64BigEndian(frame[SequenceOffset..], sequence);
        WritePayload(frame[HeaderLength..MinimumLength], sequence);
    }

    /// <summary>
    /// Like <see cref="TryRead(ReadOnlySpan{byte}, out uint, out ulong)"/>, and says whether the payload
    /// is the one its sequence number calls for.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out uint streamId, out ulong sequence, out bool intact)
    {
        intact = false;
        if (!TryRead(frame, out streamId, out sequence))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MinimumLength - HeaderLength];
        WritePayload(expected, sequence);
        intact = frame.Length >= MinimumLength && frame[HeaderLength..MinimumLength].SequenceEqual(expected);
        return true;
    }

    /// <summary>Reads the stream id and sequence number; false for anything that is not a probe frame.</summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out uint streamId, out ulong sequence)
    {
        if (frame.Length < HeaderLength
            || BinaryPrimitives.ReadUInt16BigEndian(frame[EtherTypeOffset..]) != EtherType
            || BinaryPrimitives.ReadUInt32BigEndian(frame[MagicOffset..]) != Magic)
        {
            streamId = 0;
            sequence = 0;
            return false;
        }

        streamId = BinaryPrimitives.ReadUInt32BigEndian(frame[StreamOffset..]);
        sequence = BinaryPrimitives.ReadUInt64BigEndian(frame[SequenceOffset..]);
        return true;
    }

    /// <summary>Bytes that differ from frame to frame and position to position: a shifted or stale buffer does not pass for intact.</summary>
    private static void WritePayload(Span<byte> payload, ulong sequence)
    {
        var mixed = (sequence + 1) * 0x9E3779B97F4A7C15UL;
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)((mixed >> ((i % 8) * 8)) ^ (ulong)i);
        }
    }

    /// <summary>A locally administered unicast MAC for probe endpoint <paramref name="index"/> (02:46:52:59:xx:xx).</summary>
    public static PhysicalAddress EndpointAddress(ushort index) =>
        new([0x02, 0x46, 0x52, 0x59, (byte)(index >> 8), (byte)index]);
}
