using Ferry.Transfer.Migration;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// The engine's progress as the migration's observer sees it: at each pass's end, and while a pass runs
/// (a first pass of a large guest on a slow link takes minutes) every <c>interval</c> the bytes written so
/// far. Nothing after the switch-over began: that phase reports itself.
/// </summary>
internal sealed class EngineProgress : IAsyncDisposable
{
    private readonly SourceMigration _engine;
    private readonly IMigrationObserver _observer;
    private readonly long _totalBytes;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _ticks;
    private long _pass = 1;
    private long _lastBytes = -1;
    private bool _stopped;

    public EngineProgress(SourceMigration engine, IMigrationObserver observer, long totalBytes, TimeSpan interval, TimeProvider timeProvider)
    {
        _engine = engine;
        _observer = observer;
        _totalBytes = totalBytes;
        engine.PassCompleted += OnPassCompleted;
        _ticks = TickAsync(interval, timeProvider);
    }

    /// <summary>The switch-over began: no more samples.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _stopped = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Stop();
        _engine.PassCompleted -= OnPassCompleted;
        await _stop.CancelAsync();
        await _ticks;
        _stop.Dispose();
    }

    private void OnPassCompleted(PassReport pass)
    {
        var mbps = pass.Duration > TimeSpan.Zero ? pass.Bytes * 8 / pass.Duration.TotalSeconds / 1e6 : 0;
        lock (_lock)
        {
            _pass = pass.Pass + 2;
            Publish(pass.Pass + 1, mbps, always: true);
        }
    }

    private async Task TickAsync(TimeSpan interval, TimeProvider timeProvider)
    {
        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                lock (_lock)
                {
                    Publish(_pass, 0, always: false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Publish(long pass, double throughputMbps, bool always)
    {
        var bytes = _engine.BytesWritten;
        if (_stopped || (!always && bytes == _lastBytes))
        {
            return;
        }

        _lastBytes = bytes;
        _observer.Report(new TransportProgress(pass, bytes, 0, _totalBytes, 0, throughputMbps));
    }
}
