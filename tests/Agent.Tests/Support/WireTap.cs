using System.Net;
using System.Net.Sockets;

namespace Ferry.Agent.Tests.Support;

/// <summary>
/// A TCP relay in front of a listener that keeps the first bytes each client sent, so a test can see
/// what crossed the wire (a migration stream in clear starts with QEMU's magic, a TLS one with a
/// handshake record). Forwards both ways until either side closes.
/// </summary>
internal sealed class WireTap : IAsyncDisposable
{
    private const int HeadBytes = 64 * 1024;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _to;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<byte[]> _heads = [];
    private readonly List<Task> _relays = [];
    private readonly Task _accepting;
    private long _forwarded;

    private WireTap(IPEndPoint to)
    {
        _to = to;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Bytes relayed from clients to the listener so far, over every connection.</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    /// <summary>The first 64 KiB each client sent, one entry per connection, in the order they connected.</summary>
    public IReadOnlyList<byte[]> Heads
    {
        get
        {
            lock (_heads)
            {
                return _heads.Select(h => h.ToArray()).ToList();
            }
        }
    }

    public static WireTap Start(IPEndPoint to) => new(to);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] relays;
        lock (_relays)
        {
            relays = [.. _relays];
        }

        await Task.WhenAll(relays);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_relays)
                {
                    _relays.Add(RelayAsync(client));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var head = new MemoryStream();
        int index;
        lock (_heads)
        {
            _heads.Add([]);
            index = _heads.Count - 1;
        }

        using (client)
        using (var server = new TcpClient { NoDelay = true })
        {
            try
            {
                client.NoDelay = true;
                await server.ConnectAsync(_to, _stop.Token);
                var up = CopyAsync(client, server, bytes =>
                {
                    Interlocked.Add(ref _forwarded, bytes.Length);
                    if (head.Length < HeadBytes)
                    {
                        head.Write(bytes.Span[..(int)Math.Min(bytes.Length, HeadBytes - head.Length)]);
                        lock (_heads)
                        {
                            _heads[index] = head.ToArray();
                        }
                    }
                });
                var down = CopyAsync(server, client, _ => { });
                await Task.WhenAll(up, down);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task CopyAsync(TcpClient from, TcpClient to, Action<ReadOnlyMemory<byte>> seen)
    {
        var buffer = new byte[256 * 1024];
        try
        {
            while (true)
            {
                var read = await from.GetStream().ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                seen(buffer.AsMemory(0, read));
                await to.GetStream().WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }

            to.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // One side went away: the other learns it when its own read or write fails.
            from.Client.Close();
            to.Client.Close();
        }
    }
}
