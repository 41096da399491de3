using System.Net.Sockets;

namespace Ferry.Agent.Tests.Support;

/// <summary>
/// A QMP server on a real UNIX socket whose behaviour each test scripts, for the faults real QEMU
/// cannot produce on demand: garbage, truncation, hangs, closes mid-command.
/// </summary>
internal sealed class FakeQmpServer : IAsyncDisposable
{
    private readonly TestDirectory _directory = new();
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<FakeQmpPeer> _peers = [];
    private readonly Task _acceptLoop;
    private int _disposed;

    public FakeQmpServer(Func<FakeQmpPeer, Task> script)
    {
        SocketPath = _directory.File("qmp.sock");
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(8);
        _acceptLoop = AcceptLoopAsync(script);
    }

    public string SocketPath { get; }

    /// <summary>Faults raised by the script itself (for example a failed Assert inside it).</summary>
    public List<Exception> ScriptFailures { get; } = [];

    private async Task AcceptLoopAsync(Func<FakeQmpPeer, Task> script)
    {
        var scripts = new List<Task>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptAsync(_stop.Token);
                var peer = new FakeQmpPeer(socket);
                lock (_peers)
                {
                    _peers.Add(peer);
                }

                scripts.Add(Task.Run(async () =>
                {
                    try
                    {
                        await script(peer);
                    }
                    catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
                    {
                        // The client went away first; that is what several tests provoke.
                    }
                    catch (Exception ex)
                    {
                        lock (ScriptFailures)
                        {
                            ScriptFailures.Add(ex);
                        }
                    }
                }));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        await Task.WhenAll(scripts).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener.Dispose();
        lock (_peers)
        {
            foreach (var peer in _peers)
            {
                peer.Dispose();
            }
        }

        await _acceptLoop;
        _stop.Dispose();
        _directory.Dispose();
    }
}
