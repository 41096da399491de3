using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Ferry.Transfer.Interop;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// Creates a listening socket inside another network namespace. setns(2) switches only the calling
/// thread, and a socket stays in the namespace it was created in, so a short-lived thread enters
/// the target namespace, creates the listener and ends; the accepted streams live there too.
/// </summary>
internal static class BenchmarkNetworkNamespace
{
    public static TcpListener Listen(string? netns, IPAddress address)
    {
        if (netns is null)
        {
            var local = new TcpListener(address, 0);
            local.Start();
            return local;
        }

        TcpListener? listener = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(Path.Combine("/var/run/netns", netns), FileMode.Open, FileAccess.Read);
                if (Libc.SetNs(handle, Libc.CloneNewNet) != 0)
                {
                    throw new IOException($"setns({netns}) failed: errno {Marshal.GetLastPInvokeError()}");
                }

                listener = new TcpListener(address, 0);
                listener.Start();
            }
            catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        return listener ?? throw new IOException($"cannot listen in namespace {netns}: {failure?.Message}", failure);
    }
}
