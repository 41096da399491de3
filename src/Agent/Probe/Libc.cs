using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ferry.Agent.Probe;

/// <summary>The two libc calls the probe needs beyond what System.Net.Sockets offers, with blittable or UTF-8 arguments.</summary>
internal static class Libc
{
    public const int CloneNewNet = 0x40000000;
    public const int SolSocket = 1;
    public const int SoRcvbufForce = 33;
    public const int SolPacket = 263;
    public const int PacketIgnoreOutgoing = 23;

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static extern int SetNs(SafeFileHandle fd, int namespaceType);

    [DllImport("libc", EntryPoint = "if_nametoindex", SetLastError = true)]
    public static extern uint IfNameToIndex([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
