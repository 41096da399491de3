using System.Net;
using System.Net.Sockets;

namespace Ferry.Transfer.Tests.Support;

/// <summary>
/// A TCP relay that can be cut: after <see cref="Cut"/> it stops relaying but keeps every
/// socket open, like a link that went down without a reset. Only the progress timeout can notice.
/// </summary>
internal sealed class BlackholeProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly List<TcpClient> _sockets = [];
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _cut;

    public BlackholeProxy(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        _ = AcceptLoop();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public long RelayedBytes;

    public void Cut() => _cut = true;

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_sockets)
        {
            _sockets.ForEach(s => s.Dispose());
        }

        _stop.Dispose();
    }

    private async Task AcceptLoop()
    {
        try
        {
            while (true)
            {
                var inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
                var outbound = new TcpClient();
                await outbound.ConnectAsync(_target, _stop.Token);
                lock (_sockets)
                {
                    _sockets.Add(inbound);
                    _sockets.Add(outbound);
                }

                _ = Pump(inbound.GetStream(), outbound.GetStream());
                _ = Pump(outbound.GetStream(), inbound.GetStream());
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    }

    private async Task Pump(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (!_cut)
            {
                int n = await from.ReadAsync(buffer, _stop.Token);
                if (n == 0 || _cut)
                {
                    return; // on a cut, swallow what arrived and never read again
                }

                await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                Interlocked.Add(ref RelayedBytes, n);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Disposed or the peer went away.
        }
    }
}
