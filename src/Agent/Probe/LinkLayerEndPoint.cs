using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Ferry.Agent.Probe;

/// <summary>A <c>struct sockaddr_ll</c> naming an interface and an EtherType, for binding an AF_PACKET socket.</summary>
internal sealed class LinkLayerEndPoint(int interfaceIndex, ushort etherType) : EndPoint
{
    private const int Size = 20;

    public override AddressFamily AddressFamily => AddressFamily.Packet;

    public int InterfaceIndex { get; } = interfaceIndex;

    public ushort EtherType { get; } = etherType;

    public override SocketAddress Serialize()
    {
        // sll_family (host order, written by SocketAddress), sll_protocol (network order), sll_ifindex (host order).
        var address = new SocketAddress(AddressFamily.Packet, Size);
        var bytes = address.Buffer.Span;
        BinaryPrimitives.WriteUInt16BigEndian(bytes[2..], EtherType);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[4..], InterfaceIndex);
        return address;
    }

    public override EndPoint Create(SocketAddress socketAddress)
    {
        ArgumentNullException.ThrowIfNull(socketAddress);
        var bytes = socketAddress.Buffer.Span;
        return new LinkLayerEndPoint(BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]), BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]));
    }
}
