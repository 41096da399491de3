using System.Net.NetworkInformation;
using Ferry.Agent.Probe;

namespace Ferry.Agent.Tests.Probe;

[Trait("Tier", "fast")]
public sealed class ProbeFrameTests
{
    private static readonly ProbeStream Stream = new(7, ProbeFrame.EndpointAddress(1), ProbeFrame.EndpointAddress(2));

    [Fact]
    public void A_frame_carries_its_macs_ethertype_stream_and_sequence_and_is_64_bytes_on_the_wire()
    {
        var frame = new byte[Stream.FrameLength];

        ProbeFrame.Write(frame, Stream, 0x0102030405060708);

        Assert.Equal(60, frame.Length);
        Assert.Equal(Stream.Destination.GetAddressBytes(), frame[..6]);
        Assert.Equal(Stream.Source.GetAddressBytes(), frame[6..12]);
        Assert.Equal([0x88, 0xB5], frame[12..14]);
        Assert.True(ProbeFrame.TryRead(frame, out var streamId, out var sequence));
        Assert.Equal(7u, streamId);
        Assert.Equal(0x0102030405060708UL, sequence);
        Assert.True(ProbeFrame.TryRead(frame, out _, out _, out var intact));
        Assert.True(intact);
    }

    [Fact]
    public void A_frame_whose_payload_was_garbled_or_belongs_to_another_sequence_is_not_intact()
    {
        var frame = new byte[Stream.FrameLength];
        ProbeFrame.Write(frame, Stream, 1000);
        var flipped = frame.ToArray();
        flipped[^1] ^= 0x01;
        var stale = frame.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(stale.AsSpan(22), 1001);

        Assert.True(ProbeFrame.TryRead(flipped, out _, out var sequence, out var flippedIntact));
        Assert.Equal(1000UL, sequence);
        Assert.False(flippedIntact);
        Assert.True(ProbeFrame.TryRead(stale, out _, out _, out var staleIntact));
        Assert.False(staleIntact);
        Assert.NotEqual(frame[ProbeFrame.HeaderLength..], new byte[frame.Length - ProbeFrame.HeaderLength]);
    }

    [Fact]
    public void Setting_the_sequence_rewrites_the_sequence_and_its_payload_only()
    {
        var frame = new byte[Stream.FrameLength];
        ProbeFrame.Write(frame, Stream, 1);

        ProbeFrame.SetSequence(frame, 42);

        Assert.True(ProbeFrame.TryRead(frame, out var streamId, out var sequence, out var intact));
        Assert.Equal(7u, streamId);
        Assert.Equal(42UL, sequence);
        Assert.True(intact);
    }

    [Fact]
    public void Frames_of_another_ethertype_or_without_the_magic_are_not_probe_frames()
    {
        var frame = new byte[Stream.FrameLength];
        ProbeFrame.Write(frame, Stream, 1);
        var otherType = frame.ToArray();
        otherType[13] = 0x00;
        var otherMagic = frame.ToArray();
        otherMagic[14] ^= 0xFF;

        Assert.False(ProbeFrame.TryRead(otherType, out _, out _));
        Assert.False(ProbeFrame.TryRead(otherMagic, out _, out _));
        Assert.False(ProbeFrame.TryRead(frame.AsSpan(0, ProbeFrame.HeaderLength - 1), out _, out _));
    }

    [Fact]
    public void Streams_refuse_multicast_and_zero_macs_and_frames_shorter_than_the_ethernet_minimum()
    {
        var multicast = PhysicalAddress.Parse("01-00-5E-00-00-01");
        var zero = PhysicalAddress.Parse("00-00-00-00-00-00");

        Assert.Throws<ArgumentException>(() => new ProbeStream(1, multicast, ProbeFrame.EndpointAddress(2)));
        Assert.Throws<ArgumentException>(() => new ProbeStream(1, zero, ProbeFrame.EndpointAddress(2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProbeStream(1, ProbeFrame.EndpointAddress(1), ProbeFrame.EndpointAddress(2), 59));
    }
}
