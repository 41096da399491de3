using System.Net.Sockets;
using System.Text;

namespace Ferry.Agent.Ovs;

/// <summary>
/// Asks an OVSDB socket for a JSON-RPC <c>echo</c>. A socket file alone proves nothing (a crashed
/// ovsdb-server leaves it behind); an answer proves a server is there.
/// </summary>
internal static class OvsdbEcho
{
    private static readonly byte[] Request = Encoding.ASCII.GetBytes("""{"id":"ferry-probe","method":"echo","params":[]}""");

    public static async Task<bool> AnswersAsync(string socketPath, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (!File.Exists(socketPath))
        {
            return false;
        }

        using var timeoutSource = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), linked.Token);
            await socket.SendAsync(Request, SocketFlags.None, linked.Token);
            var buffer = new byte[4096];
            var reply = new StringBuilder();
            while (!reply.ToString().Contains("ferry-probe", StringComparison.Ordinal))
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, linked.Token);
                if (read == 0)
                {
                    return false;
                }

                reply.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            return reply.ToString().Contains("\"result\"", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
