namespace Ferry.Agent.Probe;

/// <summary>
/// Sends one stream's frames with consecutive sequence numbers from 0, continuing across calls.
/// The sending loops block, so run them on a thread of their own (<see cref="RunAsync"/>). One
/// buffer for all frames: only the sequence number is rewritten per frame.
/// </summary>
public sealed class FrameGenerator
{
    private readonly PacketSocket _socket;
    private readonly TimeProvider _time;
    private readonly byte[] _frame;
    private long _sent;
    private long _refused;

    public FrameGenerator(PacketSocket socket, ProbeStream stream, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(time);
        _socket = socket;
        _time = time;
        Stream = stream;
        _frame = new byte[stream.FrameLength];
        ProbeFrame.Write(_frame, stream, 0);
    }

    public ProbeStream Stream { get; }

    /// <summary>Frames sent so far, which is also the next sequence number.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Times the interface's queue was full and a frame had to wait.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Sends <paramref name="count"/> frames as fast as the interface takes them.</summary>
    public long SendBurst(long count, CancellationToken cancellationToken = default) =>
        Run(double.PositiveInfinity, count, cancellationToken);

    /// <summary>
    /// Sends at <paramref name="framesPerSecond"/> (infinity: as fast as possible) until
    /// <paramref name="count"/> frames are sent or the token is cancelled; returns frames sent by this call.
    /// Pacing keeps the average rate: after a stall it catches up in a burst, as a line-rate source would.
    /// </summary>
    public long Run(double framesPerSecond, long? count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(framesPerSecond);
        var limit = count ?? long.MaxValue;
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var start = _time.GetTimestamp();
        long sent = 0;
        while (sent < limit && !cancellationToken.IsCancellationRequested)
        {
            var due = double.IsPositiveInfinity(framesPerSecond)
                ? limit
                : Math.Min(limit, (long)(_time.GetElapsedTime(start).TotalSeconds * framesPerSecond) + 1);
            while (sent < due && !cancellationToken.IsCancellationRequested)
            {
                ProbeFrame.SetSequence(_frame, (ulong)Interlocked.Read(ref _sent));
                if (!_socket.TrySend(_frame))
                {
                    Interlocked.Increment(ref _refused);
                    Thread.Yield();
                    continue;
                }

                Interlocked.Increment(ref _sent);
                sent++;
            }

            if (sent < limit && !double.IsPositiveInfinity(framesPerSecond))
            {
                var nextDue = TimeSpan.FromSeconds(sent / framesPerSecond) - _time.GetElapsedTime(start);
                if (nextDue > TimeSpan.FromMilliseconds(1))
                {
                    Thread.Sleep(1);
                }
                else if (nextDue > TimeSpan.Zero)
                {
                    Thread.Yield();
                }
            }
        }

        return sent;
    }

    /// <summary><see cref="Run"/> on a thread of its own.</summary>
    public Task<long> RunAsync(double framesPerSecond, long? count, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(
            () => Run(framesPerSecond, count, cancellationToken),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
}
