using System.Net;
using System.Net.Sockets;

namespace Ferry.Testing;

/// <summary>TCP ports nothing on this machine listens on, for servers a test starts.</summary>
public static class FreePorts
{
    /// <summary>A loopback port the kernel just handed out and released (another process may yet take it).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
