namespace Ferry.Agent.Probe;

/// <summary>
/// Receives one stream's frames on a thread of its own and records their sequence numbers as they
/// arrive (<see cref="SequenceRecorder"/>). Frames of other streams and non-probe frames are counted
/// and ignored.
/// </summary>
public sealed class FrameSink : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly PacketSocket _socket;
    private readonly uint _streamId;
    private readonly TimeProvider _time;
    private readonly SequenceRecorder _recorder;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _otherFrames;
    private long _corruptFrames;
    private long _lastArrival;
    private volatile Exception? _failure;

    private FrameSink(PacketSocket socket, uint streamId, TimeProvider time)
    {
        _socket = socket;
        _streamId = streamId;
        _time = time;
        _recorder = new SequenceRecorder(time);
        _thread = new Thread(ReceiveLoop) { IsBackground = true, Name = $"probe sink {socket.InterfaceName}" };
    }

    /// <summary>Frames that were not of this sink's stream.</summary>
    public long OtherFrames => Interlocked.Read(ref _otherFrames);

    /// <summary>Frames of this stream whose payload is not the one their sequence number calls for.</summary>
    public long CorruptFrames => Interlocked.Read(ref _corruptFrames);

    /// <summary>Distinct sequence numbers received so far.</summary>
    public long Received
    {
        get
        {
            lock (_gate)
            {
                return _recorder.Received;
            }
        }
    }

    public static FrameSink Start(PacketSocket socket, uint streamId, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(time);
        var sink = new FrameSink(socket, streamId, time);
        sink._thread.Start();
        return sink;
    }

    /// <summary>Opens the recorder's window now (<see cref="SequenceRecorder.OpenWindow"/>): a migrating guest was paused.</summary>
    public void OpenWindow()
    {
        lock (_gate)
        {
            _recorder.OpenWindow(_time.GetTimestamp());
        }
    }

    /// <summary>Closes the recorder's window now (<see cref="SequenceRecorder.CloseWindow"/>): the guest runs at its destination.</summary>
    public void CloseWindow()
    {
        lock (_gate)
        {
            _recorder.CloseWindow(_time.GetTimestamp());
        }
    }

    /// <summary>What arrived so far; pass the generator's count so frames lost at the end count too.</summary>
    public ProbeReport Report(long? sent = null)
    {
        ThrowIfFailed();
        lock (_gate)
        {
            return _recorder.Report(sent) with { Corrupt = CorruptFrames };
        }
    }

    /// <summary>
    /// Waits until <paramref name="count"/> distinct frames have arrived, or until none has arrived
    /// for <paramref name="quiet"/> (the rest are lost); true when all arrived.
    /// </summary>
    public async Task<bool> WaitForAsync(long count, TimeSpan quiet, CancellationToken cancellationToken)
    {
        var since = _time.GetTimestamp();
        while (Received < count)
        {
            ThrowIfFailed();
            if (_time.GetElapsedTime(Math.Max(Interlocked.Read(ref _lastArrival), since)) >= quiet)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), _time, cancellationToken);
        }

        return true;
    }

    /// <summary>Waits until no frame of the stream has arrived for <paramref name="quiet"/>, e.g. after a burst drained.</summary>
    public async Task WaitForQuietAsync(TimeSpan quiet, CancellationToken cancellationToken)
    {
        var since = _time.GetTimestamp();
        while (true)
        {
            ThrowIfFailed();
            if (_time.GetElapsedTime(Math.Max(Interlocked.Read(ref _lastArrival), since)) >= quiet)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), _time, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _stopped.Task;
        _stop.Dispose();
    }

    private void ReceiveLoop()
    {
        var buffer = new byte[2048];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var length = _socket.Receive(buffer, PollInterval);
                if (length == 0)
                {
                    continue;
                }

                if (!ProbeFrame.TryRead(buffer.AsSpan(0, length), out var streamId, out var sequence, out var intact) || streamId != _streamId)
                {
                    Interlocked.Increment(ref _otherFrames);
                    continue;
                }

                if (!intact)
                {
                    // Its header survived and its payload did not: counted, never taken for an arrival.
                    Interlocked.Increment(ref _corruptFrames);
                    continue;
                }

                lock (_gate)
                {
                    _recorder.Record(sequence);
                }

                Interlocked.Exchange(ref _lastArrival, _time.GetTimestamp());
            }
        }
        catch (Exception e)
        {
            // Whatever it was, it ends the receiving, never the process: this is a thread of its own,
            // where an escaping exception would take the agent down. Callers learn it from the next call.
            _failure = e;
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            throw new IOException($"The probe sink on {_socket.InterfaceName} stopped receiving: {failure.Message}", failure);
        }
    }
}
