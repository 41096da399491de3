using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ferry.Transfer.Interop;

/// <summary>
/// The calls the agent's network probe needs beyond what System.Net.Sockets offers: entering a network
/// namespace and naming an interface by index for an AF_PACKET socket, with the socket options it sets.
/// </summary>
internal static partial class Libc
{
    public const int CloneNewNet = 0x40000000;
    public const int SolSocket = 1;
    public const int SoRcvbufForce = 33;
    public const int SolPacket = 263;
    public const int PacketIgnoreOutgoing = 23;

    [LibraryImport(Library, EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(SafeFileHandle fd, int namespaceType);

    [LibraryImport(Library, EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint IfNameToIndex(string name);
}
