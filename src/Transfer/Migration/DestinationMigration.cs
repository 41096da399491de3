using System.Net.Sockets;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Protocol;

namespace Ferry.Transfer.Migration;

/// <summary>
/// The destination side: accepts the migration's streams, writes what they carry straight into
/// the RAM file, acknowledges the final pass only when every stream has delivered all of it,
/// starts the guest and confirms that it runs. Any failed stream fails the whole migration,
/// and the guest is not started.
/// </summary>
public sealed class DestinationMigration
{
    private readonly GuestMemory _memory;
    private readonly MigrationCredentials _credentials;
    private readonly int _streams;
    private readonly TimeSpan _progressTimeout;

    /// <summary>Connections allowed to be in their handshake at once, beyond the migration's streams; more are closed at once.</summary>
    private const int ExtraHandshakes = 8;

    private int MaxPendingHandshakes => _streams + ExtraHandshakes;

    /// <summary>Prepares to receive a migration.</summary>
    /// <param name="memory">The destination RAM file (fresh: holes only, or any content to overwrite).</param>
    /// <param name="credentials">The migration id and token to accept.</param>
    /// <param name="streams">Streams the source will open.</param>
    /// <param name="progressTimeout">Give up on a stream silent for this long.</param>
    public DestinationMigration(GuestMemory memory, MigrationCredentials credentials, int streams, TimeSpan progressTimeout)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentOutOfRangeException.ThrowIfLessThan(streams, 1);
        _memory = memory;
        _credentials = credentials;
        _streams = streams;
        _progressTimeout = progressTimeout;
    }

    /// <summary>
    /// Called (on a stream's thread, at most once per announcement) when the source says it is
    /// pausing the guest: a moment to get the incoming guest ready, so that its start inside the
    /// downtime does not wait for a sleeping thread to be woken. Must return quickly.
    /// </summary>
    public Action? SwitchoverSoon { get; init; }

    /// <summary>Receives the migration on <paramref name="listener"/> and starts the guest.</summary>
    /// <param name="listener">A started listener.</param>
    /// <param name="startGuest">Starts the guest on the received RAM with the device state; called once.</param>
    /// <param name="cancellationToken">Cancels (closes every stream).</param>
    public async Task<DestinationResult> RunAsync(TcpListener listener,
        Func<ReadOnlyMemory<byte>, CancellationToken, Task> startGuest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(startGuest);
        var clients = new List<TcpClient>();
        var receivers = new List<PageStreamReceiver>();
        var claimed = new bool[_streams];
        var runs = new List<Task<ReceiveOutcome>>();
        var connections = new List<Task>();
        var switchover = new DestinationSwitchover(receivers, _streams, startGuest, cancellationToken);
        using var cancel = cancellationToken.Register(() =>
        {
            lock (clients)
            {
                clients.ForEach(c => c.Dispose());
            }
        });

        // Every stream must authenticate within the progress timeout of the one before it (of the start, for the
        // first); a connection that does not authenticate takes no slot, and neither fails nor prolongs the wait.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_progressTimeout);
        using var allIn = new CancellationTokenSource();
        using var stopAccepting = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, allIn.Token);
        int authenticated = 0, handshaking = 0;
        string? lastRefusal = null;
        try
        {
            while (Volatile.Read(ref authenticated) < _streams)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync(stopAccepting.Token);
                }
                catch (OperationCanceledException) when (allIn.IsCancellationRequested)
                {
                    break;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return Result(receivers, $"stream {Volatile.Read(ref authenticated)} did not connect within {_progressTimeout.TotalSeconds:0.#} s"
                        + (Volatile.Read(ref lastRefusal) is { } refusal ? $" (last refused: {refusal})" : ""));
                }

                // Closed before a byte is read: a stranger's address never reaches the handshake, let alone a slot.
                var remote = client.Client.RemoteEndPoint;
                if (!_credentials.AcceptsPeer(remote) || Volatile.Read(ref handshaking) >= MaxPendingHandshakes)
                {
                    Volatile.Write(ref lastRefusal, _credentials.AcceptsPeer(remote)
                        ? $"a connection from {remote}: too many handshakes in progress"
                        : $"a connection from {remote}: not the migration's source");
                    client.Dispose();
                    continue;
                }

                int timeout = (int)Math.Min(int.MaxValue, _progressTimeout.TotalMilliseconds);
                client.ReceiveTimeout = timeout;
                client.SendTimeout = timeout;
                client.ReceiveBufferSize = 4 << 20;
                client.NoDelay = true; // acks and the running confirmation are tiny: Nagle would hold them for the peer's delayed ACK
                lock (clients)
                {
                    clients.Add(client);
                }

                Interlocked.Increment(ref handshaking);
                connections.Add(Task.Factory.StartNew(() =>
                {
                    var receiver = new PageStreamReceiver(_memory, _credentials, client.GetStream(), _streams,
                        claimStream: index => { lock (claimed) { return !claimed[index] && (claimed[index] = true); } },
                        switchoverSoon: SwitchoverSoon);
                    ReceiveError handshake;
                    try
                    {
                        handshake = receiver.Handshake();
                    }
                    catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
                    {
                        handshake = ReceiveError.Truncated;
                    }
                    finally
                    {
                        Interlocked.Decrement(ref handshaking);
                    }

                    if (handshake != ReceiveError.None)
                    {
                        // A stranger (or a peer of another version): refused, and the migration goes on without it.
                        Volatile.Write(ref lastRefusal, $"a handshake from {remote}: {PageStreamHandshake.Describe(handshake, receiver.PeerVersion)}");
                        client.Dispose();
                        receiver.Dispose();
                        return;
                    }

                    var run = new TaskCompletionSource<ReceiveOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
                    lock (receivers)
                    {
                        receivers.Add(receiver);
                        runs.Add(run.Task);
                    }

                    if (Interlocked.Increment(ref authenticated) == _streams)
                    {
                        allIn.Cancel();
                    }
                    else
                    {
                        deadline.CancelAfter(_progressTimeout);
                    }

                    try
                    {
                        run.SetResult(switchover.Receive(receiver));
                    }
                    catch (Exception e)
                    {
                        run.SetException(e);
                    }
                }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
            }

            // The first stream to fail fails them all: close the rest rather than wait out their timeouts.
            List<Task<ReceiveOutcome>> pending;
            lock (receivers)
            {
                pending = [.. runs];
            }

            while (pending.Count > 0)
            {
                var done = await Task.WhenAny(pending);
                pending.Remove(done);
                if (done.IsFaulted || !done.Result.Completed)
                {
                    lock (clients)
                    {
                        clients.ForEach(c => c.Dispose());
                    }

                    string why = done.IsFaulted ? done.Exception!.InnerException!.Message : done.Result.Error.ToString();
                    await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
                    return Result(receivers, $"stream {runs.IndexOf(done)}: {why}");
                }
            }

            // The last stream to finish its final pass acknowledged, started the guest and confirmed it, on its own thread.
            switchover.ThrowIfFailed();
            return Result(receivers, switchover.Refusal) with { GuestStart = switchover.GuestStart };
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException
            || e is IOException and not FileNotFoundException)
        {
            return Result(receivers, e.Message);
        }
        finally
        {
            // Sockets first, so blocked receivers return; only then may their pooled buffers go back.
            lock (clients)
            {
                clients.ForEach(c => c.Dispose());
            }

            await Task.WhenAll(connections.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));
            foreach (var receiver in receivers)
            {
                receiver.Dispose();
            }
        }
    }

    private static DestinationResult Result(List<PageStreamReceiver> receivers, string? failure)
    {
        lock (receivers)
        {
            return new(failure is null, failure, receivers.Sum(r => r.PagesWritten), receivers.Sum(r => r.ZeroPages), receivers.Sum(r => r.BytesReceived));
        }
    }
}
