using System.Net.NetworkInformation;

namespace Ferry.Agent.Probe;

/// <summary>
/// One direction of probe traffic: its id (so a sink ignores other streams on the same wire) and the
/// MACs its frames carry. Both must be unicast: a Linux bridge drops frames from a multicast or
/// all-zero source, and OpenFlow rules match on them.
/// </summary>
public sealed record ProbeStream
{
    public ProbeStream(uint id, PhysicalAddress source, PhysicalAddress destination, int frameLength = ProbeFrame.MinimumLength)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        RequireUnicast(source, nameof(source));
        RequireUnicast(destination, nameof(destination));
        ArgumentOutOfRangeException.ThrowIfLessThan(frameLength, ProbeFrame.MinimumLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(frameLength, 1514);
        Id = id;
        Source = source;
        Destination = destination;
        FrameLength = frameLength;
    }

    public uint Id { get; }

    public PhysicalAddress Source { get; }

    public PhysicalAddress Destination { get; }

    /// <summary>Bytes handed to the NIC per frame, without the FCS.</summary>
    public int FrameLength { get; }

    private static void RequireUnicast(PhysicalAddress address, string name)
    {
        var bytes = address.GetAddressBytes();
        if (bytes.Length != 6 || (bytes[0] & 1) != 0 || bytes.All(b => b == 0))
        {
            throw new ArgumentException($"'{address}' is not a unicast Ethernet address.", name);
        }
    }
}
