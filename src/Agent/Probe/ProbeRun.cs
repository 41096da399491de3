using Ferry.Agent.Ovs;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Probe;

/// <summary>
/// One migration's probe on its source host, from before the migration starts until after the source's
/// cleanup: the generator sends at a fixed rate, the sink records every arrival, and the window marked by
/// <see cref="OpenWindow"/> (the guest paused) and <see cref="CloseWindow"/> (it runs at the destination)
/// picks out the gap that is the network downtime. Disposing stops the stream and removes its ports and rules.
/// A probe is a measurement, never a part of the migration: once started, none of its members throws
/// (but for the caller's own cancellation). A failure of any kind in the generator, the sink or the
/// announcement watcher ends the probe; <see cref="FinishAsync"/> then reports no network downtime and a
/// note saying what failed, and the migration's bookkeeping goes on untouched.
/// </summary>
public sealed partial class ProbeRun : IAsyncDisposable
{
    /// <summary>QEMU's self-announcement after a migration: a RARP from each NIC's MAC (sent by the vhost-user backend).</summary>
    public const ushort RarpEtherType = 0x8035;

    private readonly IOvsSwitch _ovs;
    private readonly ProbeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _migrationId;
    private readonly string _generatorPort;
    private readonly string _sinkPort;
    private readonly ulong _cookie;
    private readonly List<IDisposable> _sockets = [];
    private readonly CancellationTokenSource _stopSending = new();
    private FrameGenerator? _generator;
    private FrameSink? _sink;
    private Task<long>? _sending;
    private Task? _watchingAnnouncements;
    private long _pausedAt;
    private long _firstAnnouncement;
    private bool _warmedUp;
    private bool _windowOpened;
    private bool _disposed;
    private string? _failure;

    internal ProbeRun(IOvsSwitch ovs, ProbeOptions options, TimeProvider time, ILogger logger, string migrationId, double framesPerSecond)
    {
        _ovs = ovs;
        _options = options;
        _time = time;
        _logger = logger;
        _migrationId = migrationId;
        FramesPerSecond = framesPerSecond;
        (_generatorPort, _sinkPort) = ProbeSteering.PortsFor(migrationId);
        _cookie = ProbeSteering.MigrationCookie(migrationId);
        Stream = ProbeSteering.StreamFor(migrationId);
    }

    public ProbeStream Stream { get; }

    public double FramesPerSecond { get; }

    /// <summary>What ended the probe early (its generator, sink or window failed); null while it works.</summary>
    public string? Failure => Volatile.Read(ref _failure);

    /// <summary>Adds the ports, opens the sockets, steers the stream and starts sending; undone by <see cref="DisposeAsync"/>.</summary>
    internal async Task StartAsync(string guestIn, string guestOut, string fabric, string? networkNamespace, CancellationToken cancellationToken)
    {
        await _ovs.AddInternalPortAsync(_generatorPort, cancellationToken);
        await _ovs.AddInternalPortAsync(_sinkPort, cancellationToken);
        await _ovs.SteerAsync(_cookie, ProbeSteering.Source(Stream, _generatorPort, _sinkPort, guestIn, guestOut, fabric), cancellationToken);
        var generatorSocket = PacketSocket.Open(_generatorPort, networkNamespace);
        _sockets.Add(generatorSocket);
        var sinkSocket = PacketSocket.Open(_sinkPort, networkNamespace);
        _sockets.Add(sinkSocket);
        _sink = FrameSink.Start(sinkSocket, Stream.Id, _time);
        var announcementSocket = PacketSocket.Open(_sinkPort, networkNamespace, RarpEtherType);
        _sockets.Add(announcementSocket);
        _watchingAnnouncements = Task.Factory.StartNew(() => WatchAnnouncements(announcementSocket), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _generator = new FrameGenerator(generatorSocket, Stream, _time);
        _sending = SendAsync(_generator);
        Log.Started(_logger, _migrationId, FramesPerSecond, guestIn, guestOut, fabric);
    }

    /// <summary>Waits until the stream comes back through the guest, up to <see cref="ProbeOptions.WarmupTimeout"/>; false when it did not.</summary>
    public async Task<bool> WarmUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            _warmedUp = await Sink.WaitForAsync(1, _options.WarmupTimeout, cancellationToken);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Fail("waiting for the stream", ex);
            return false;
        }

        if (!_warmedUp)
        {
            Log.NoStream(_logger, _migrationId, _options.WarmupTimeout.TotalSeconds);
        }

        return _warmedUp;
    }

    /// <summary>The guest was paused for switch-over.</summary>
    public void OpenWindow()
    {
        if (!_windowOpened)
        {
            Interlocked.Exchange(ref _pausedAt, _time.GetTimestamp());
            _windowOpened = true;
        }

        // Called from the migration's own progress path: whatever the sink does, it must not get there.
        try
        {
            Sink.OpenWindow();
        }
        catch (Exception ex)
        {
            Fail("opening the window", ex);
        }
    }

    /// <summary>The guest runs at its destination.</summary>
    public void CloseWindow()
    {
        try
        {
            Sink.CloseWindow();
        }
        catch (Exception ex)
        {
            Fail("closing the window", ex);
        }
    }

    /// <summary>
    /// Ends the measurement: when the guest moved, waits for the stream to resume at the destination (up to
    /// <see cref="ProbeOptions.ResumeTimeout"/>) and lets it flow for <see cref="ProbeOptions.Tail"/>; then stops
    /// sending, lets frames in flight arrive and reports.
    /// </summary>
    public async Task<ProbeOutcome> FinishAsync(bool guestMoved, CancellationToken cancellationToken)
    {
        try
        {
            return await MeasureAsync(guestMoved, cancellationToken);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Fail("finishing", ex);
            var sent = _generator?.Sent ?? 0;
            Log.Finished(_logger, _migrationId, sent, 0, 0, null, 0, 0, 0, null, _failure);
            return new ProbeOutcome(null, sent, 0, 0, _failure);
        }
    }

    private async Task<ProbeOutcome> MeasureAsync(bool guestMoved, CancellationToken cancellationToken)
    {
        var sink = Sink;
        sink.CloseWindow();
        var resumed = false;
        if (guestMoved && _warmedUp)
        {
            var deadline = _time.GetTimestamp();
            while (!(resumed = sink.Report().ArrivalsAfterWindow > 0) && _time.GetElapsedTime(deadline) < _options.ResumeTimeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), _time, cancellationToken);
            }

            if (resumed)
            {
                await Task.Delay(_options.Tail, _time, cancellationToken);
            }
        }

        var sent = await StopSendingAsync();
        var announcedAt = Interlocked.Read(ref _firstAnnouncement);
        TimeSpan? announced = announcedAt != 0 && _windowOpened ? _time.GetElapsedTime(Interlocked.Read(ref _pausedAt), announcedAt) : null;
        await sink.WaitForQuietAsync(_options.Drain, cancellationToken);
        var report = sink.Report(sent);
        string? note = null;
        TimeSpan? downtime = null;
        if (_failure is { } failure)
        {
            // A stream that broke on the way has a gap that is the probe's, not the guest's.
            note = failure;
        }
        else if (!_warmedUp)
        {
            note = $"no probe frame came back through the guest within {_options.WarmupTimeout.TotalSeconds:0.#} s before the migration started; does it forward from its first port to its second?";
        }
        else if (guestMoved && !resumed)
        {
            note = $"the probe stream did not come back through the guest at its destination within {_options.ResumeTimeout.TotalSeconds:0.#} s after it ran there";
        }
        else if (guestMoved && _windowOpened)
        {
            downtime = report.WindowGap;
        }

        Log.Finished(_logger, _migrationId, sent, report.Received, report.Lost, downtime?.TotalMilliseconds, report.WindowGapLost, report.ArrivalRate, report.LongestGap.TotalMilliseconds, announced?.TotalMilliseconds, note);
        return new ProbeOutcome(downtime, sent, report.Lost, report.ArrivalRate, note) { AnnouncedAfterPause = announced, FramesCorrupt = report.Corrupt };
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await StopSendingAsync();
        try
        {
            if (_watchingAnnouncements is not null)
            {
                await _watchingAnnouncements;
            }

            if (_sink is not null)
            {
                await _sink.DisposeAsync();
            }
        }
        catch (Exception ex)
        {
            Fail("stopping", ex);
        }

        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        // Best effort: a rule or port left behind carries no traffic once the generator is gone.
        try
        {
            await _ovs.RemoveSteeringAsync(_cookie, CancellationToken.None);
            await _ovs.RemovePortAsync(_generatorPort, CancellationToken.None);
            await _ovs.RemovePortAsync(_sinkPort, CancellationToken.None);
        }
        catch (Exception ex)
        {
            Log.TeardownFailed(_logger, _migrationId, ex.Message);
        }

        _stopSending.Dispose();
    }

    /// <summary>The generator's run; one that stops on its own (its port went away, say) ends the probe, not the caller.</summary>
    private async Task<long> SendAsync(FrameGenerator generator)
    {
        try
        {
            return await generator.RunAsync(FramesPerSecond, null, _stopSending.Token);
        }
        catch (Exception ex)
        {
            Fail("sending", ex);
            return generator.Sent;
        }
    }

    /// <summary>What failed first, said once: the probe is over from here, the migration is not.</summary>
    private void Fail(string doing, Exception exception)
    {
        var reason = $"the probe failed {doing}: {exception.GetType().Name}: {exception.Message}";
        if (Interlocked.CompareExchange(ref _failure, reason, null) is null)
        {
            Log.Failed(_logger, exception, _migrationId, doing);
        }
    }

    /// <summary>
    /// Notes when the first announcement from the guest's second NIC reaches the sink after the pause: the moment
    /// a learning fabric would know where the guest now is. Runs until the stream stops.
    /// </summary>
    private void WatchAnnouncements(PacketSocket socket)
    {
        var buffer = new byte[128];
        try
        {
            while (!_stopSending.IsCancellationRequested)
            {
                if (socket.Receive(buffer, TimeSpan.FromMilliseconds(100)) > 0 && _windowOpened)
                {
                    Interlocked.CompareExchange(ref _firstAnnouncement, _time.GetTimestamp(), 0);
                }
            }
        }
        catch (Exception e) when (e is ObjectDisposedException || (e is System.Net.Sockets.SocketException && _stopSending.IsCancellationRequested))
        {
            // The socket closed under the watcher: the probe is ending.
        }
        catch (Exception e)
        {
            // Only the announcement's moment is lost; the stream itself goes on.
            Log.AnnouncementsLost(_logger, _migrationId, e.Message);
        }
    }

    private FrameSink Sink => _sink ?? throw new InvalidOperationException("The probe has not started.");

    private async Task<long> StopSendingAsync()
    {
        if (_sending is null)
        {
            return 0;
        }

        if (!_stopSending.IsCancellationRequested)
        {
            await _stopSending.CancelAsync();
        }

        await _sending;
        return _generator!.Sent;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.ProbeStarted, Level = LogLevel.Information, Message = "Migration {MigrationId}: probe sends {Rate} frames/s into {GuestIn}, counts them out of {GuestOut}; fabric {Fabric}")]
        public static partial void Started(ILogger logger, string migrationId, double rate, string guestIn, string guestOut, string fabric);

        [LoggerMessage(EventId = AgentEventIds.ProbeNoStream, Level = LogLevel.Warning, Message = "Migration {MigrationId}: no probe frame came back through the guest within {Seconds} s; the migration goes on without a network measurement")]
        public static partial void NoStream(ILogger logger, string migrationId, double seconds);

        [LoggerMessage(EventId = AgentEventIds.ProbeFinished, Level = LogLevel.Information, Message = "Migration {MigrationId}: probe sent {Sent}, received {Received}, lost {Lost}; network downtime {DowntimeMs} ms ({GapLost} frames lost in it); {Rate:F0} frames/s arrived; longest gap overall {LongestGapMs:F1} ms; first announcement {AnnouncedMs} ms after the pause; {Note}")]
        public static partial void Finished(ILogger logger, string migrationId, long sent, long received, long lost, double? downtimeMs, long gapLost, double rate, double longestGapMs, double? announcedMs, string? note);

        [LoggerMessage(EventId = AgentEventIds.ProbeTeardownFailed, Level = LogLevel.Warning, Message = "Migration {MigrationId}: the probe's ports or rules could not be removed: {Reason}")]
        public static partial void TeardownFailed(ILogger logger, string migrationId, string reason);

        [LoggerMessage(EventId = AgentEventIds.ProbeFailed, Level = LogLevel.Warning, Message = "Migration {MigrationId}: the probe failed {Doing} and ends here; the migration goes on without a network measurement")]
        public static partial void Failed(ILogger logger, Exception exception, string migrationId, string doing);

        [LoggerMessage(EventId = AgentEventIds.ProbeAnnouncementsLost, Level = LogLevel.Warning, Message = "Migration {MigrationId}: announcements are no longer watched: {Reason}")]
        public static partial void AnnouncementsLost(ILogger logger, string migrationId, string reason);
    }
}
