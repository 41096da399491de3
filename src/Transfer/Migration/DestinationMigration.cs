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
        var switchover = new DestinationSwitchover(receivers, _streams, startGuest, cancellationToken);
        using var cancel = cancellationToken.Register(() =>
        {
            lock (clients)
            {
                clients.ForEach(c => c.Dispose());
            }
        });
        try
        {
            for (int i = 0; i < _streams; i++)
            {
                TcpClient client;
                using (var acceptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    // A source that opened some streams and died must not leave the destination waiting forever.
                    acceptTimeout.CancelAfter(_progressTimeout);
                    try
                    {
                        client = await listener.AcceptTcpClientAsync(acceptTimeout.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        return Result(receivers, $"stream {i} did not connect within {_progressTimeout.TotalSeconds:0.#} s");
                    }
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

                var receiver = new PageStreamReceiver(_memory, _credentials, client.GetStream(), _streams,
                    claimStream: index => { lock (claimed) { return !claimed[index] && (claimed[index] = true); } },
                    switchoverSoon: SwitchoverSoon);
                lock (receivers)
                {
                    receivers.Add(receiver);
                }

                runs.Add(Task.Factory.StartNew(() => switchover.Receive(receiver), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
            }

            // The first stream to fail fails them all: close the rest rather than wait out their timeouts.
            var pending = new List<Task<ReceiveOutcome>>(runs);
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

            await Task.WhenAll(runs.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));
            foreach (var receiver in receivers)
            {
                receiver.Dispose();
            }
        }
    }

    private static DestinationResult Result(List<PageStreamReceiver> receivers, string? failure) => new(
        failure is null, failure, receivers.Sum(r => r.PagesWritten), receivers.Sum(r => r.ZeroPages), receivers.Sum(r => r.BytesReceived));
}
