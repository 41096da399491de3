using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Ferry.Transfer.Interop;

namespace Ferry.Agent.Probe;

/// <summary>
/// An AF_PACKET socket bound to one interface and one EtherType: whole Ethernet frames in and out,
/// below any IP stack. It does not see the frames it sends itself, so a generator and a sink can
/// share an interface. Needs CAP_NET_RAW (and CAP_SYS_ADMIN to open it in another namespace).
/// </summary>
public sealed class PacketSocket : IDisposable
{
    private const int ReceiveBufferBytes = 8 << 20;

    private readonly Socket _socket;

    private PacketSocket(Socket socket, string interfaceName, string? networkNamespace)
    {
        _socket = socket;
        InterfaceName = interfaceName;
        NetworkNamespace = networkNamespace;
    }

    public string InterfaceName { get; }

    public string? NetworkNamespace { get; }

    /// <summary>Opens a socket on <paramref name="interfaceName"/>, inside <paramref name="networkNamespace"/> when one is named.</summary>
    public static PacketSocket Open(string interfaceName, string? networkNamespace = null, ushort etherType = ProbeFrame.EtherType)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        if (interfaceName.Length > 15)
        {
            throw new ArgumentException($"'{interfaceName}' is longer than an interface name can be.", nameof(interfaceName));
        }

        return Probe.NetworkNamespace.Run(networkNamespace, () =>
        {
            var index = Libc.IfNameToIndex(interfaceName);
            if (index == 0)
            {
                throw new IOException($"No interface '{interfaceName}'{(networkNamespace is null ? string.Empty : $" in namespace '{networkNamespace}'")}: {Libc.Describe(Marshal.GetLastPInvokeError())}");
            }

            // The socket's protocol is the EtherType in network byte order, as packet(7) says.
            var socket = new Socket(AddressFamily.Packet, SocketType.Raw, (ProtocolType)BinaryPrimitives.ReverseEndianness(etherType));
            try
            {
                socket.SetRawSocketOption(Libc.SolPacket, Libc.PacketIgnoreOutgoing, BitConverter.GetBytes(1));
                try
                {
                    // Bursts arrive faster than one thread drains them; FORCE passes rmem_max when we may.
                    socket.SetRawSocketOption(Libc.SolSocket, Libc.SoRcvbufForce, BitConverter.GetBytes(ReceiveBufferBytes));
                }
                catch (SocketException)
                {
                    socket.ReceiveBufferSize = ReceiveBufferBytes;
                }

                socket.Bind(new LinkLayerEndPoint((int)index, etherType));
                return new PacketSocket(socket, interfaceName, networkNamespace);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        });
    }

    /// <summary>Sends one frame; false when the interface's queue is full right now (ENOBUFS).</summary>
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        try
        {
            _socket.Send(frame);
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
        {
            return false;
        }
    }

    /// <summary>Receives one frame into <paramref name="buffer"/>; 0 when none arrived within <paramref name="timeout"/>.</summary>
    public int Receive(Span<byte> buffer, TimeSpan timeout)
    {
        if (!_socket.Poll(timeout, SelectMode.SelectRead))
        {
            return 0;
        }

        return _socket.Receive(buffer);
    }

    public void Dispose() => _socket.Dispose();
}
