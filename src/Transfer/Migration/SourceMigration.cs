using System.Net;
using System.Net.Sockets;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Protocol;

namespace Ferry.Transfer.Migration;

/// <summary>
/// The source side of a native migration: a first pass that skips never-written pages, live
/// dirty passes until the convergence controller predicts the rest fits the downtime budget,
/// then switch-over (pause, one final dirty scan, send, wait for the destination's acks and its
/// running confirmation) and only then the deferred cleanup. Any failure before the destination
/// acknowledged the final pass leaves the guest running on the source.
/// </summary>
public sealed class SourceMigration
{
    /// <summary>A final pass up to this size is written to every stream from one thread: it fits their send buffers.</summary>
    private const long InlineFinalPassBytes = 4L << 20;

    private readonly GuestMemory _memory;
    private readonly IDirtyTracker _tracker;
    private readonly IGuestControl _guest;
    private readonly MigrationCredentials _credentials;
    private readonly MigrationOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Prepares a migration; takes ownership of <paramref name="tracker"/>.</summary>
    /// <param name="memory">The source RAM file.</param>
    /// <param name="tracker">Tracks the guest's writes; disposed in cleanup or on failure.</param>
    /// <param name="guest">Pauses, resumes and stops the source guest.</param>
    /// <param name="credentials">Migration id and token the destination expects.</param>
    /// <param name="options">Streams, budgets, timeouts, bandwidth.</param>
    /// <param name="time">The clock; the system clock when null.</param>
    public SourceMigration(GuestMemory memory, IDirtyTracker tracker, IGuestControl guest,
        MigrationCredentials credentials, MigrationOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(tracker);
        ArgumentNullException.ThrowIfNull(guest);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _memory = memory;
        _tracker = tracker;
        _guest = guest;
        _credentials = credentials;
        _options = options;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Raised after every live pass (not the final one), on the migration's thread.</summary>
    public event Action<PassReport>? PassCompleted;

    private IReadOnlyList<SourceStream>? _connected;

    /// <summary>
    /// Bytes written to the destination so far, every stream's handshake and pages: for progress while a
    /// long pass runs (readable from any thread; it only grows). Zero until every stream is connected.
    /// </summary>
    public long BytesWritten => Volatile.Read(ref _connected)?.Sum(s => s.BytesWritten) ?? 0;

    /// <summary>Runs the migration to the destination listening at <paramref name="destination"/>.</summary>
    /// <param name="destination">Where the destination accepts its streams.</param>
    /// <param name="cancellationToken">Cancels before switch-over (the guest stays on the source).</param>
    public async Task<EngineResult> RunAsync(IPEndPoint destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        long start = _time.GetTimestamp();
        var streams = new List<SourceStream>();
        var reports = new List<PassReport>();
        var controller = new ConvergenceController(_options.DowntimeBudget, _options.CompletionTimeout, _time);
        bool paused = false;
        var commit = new SwitchoverCommit(streams);
        var sent = _options.VerifyRam || _options.SkipUnchangedPages ? new SentPageHashes(_memory.PageCount, _memory.PageSize) : null;
        TimeSpan setup = TimeSpan.Zero;
        long pauseAt = 0, finalPages = 0;
        int pass = 0;
        // Cancelling closes the connections, which unblocks a pass in flight; after commit it does nothing.
        var cancelRegistration = cancellationToken.Register(commit.CancelUnlessCommitted);
        try
        {
            for (int i = 0; i < _options.Streams; i++)
            {
                streams.Add(await ConnectAsync(destination, i, sent, cancellationToken));
            }

            Volatile.Write(ref _connected, streams.ToArray());
            await ForEachStream(streams, s => s.Handshake(_credentials));
            setup = _time.GetElapsedTime(start);

            // Tracking starts before the first read, so a write during the first pass is caught by the next.
            _tracker.Reset();
            var dirty = new DirtyPageSet(_memory.PageCount);
            var pieces = PassPlan.FirstPass(_memory);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var report = await SendPass(streams, pass, pieces, final: false, default);
                reports.Add(report);
                // The controller predicts the final pass from the dirty set the tracker reports, so it learns the
                // rate at which a pass gets through reported pages: every page it read, sent or not (zero, or
                // unchanged since its last send), not only the bytes that went on the wire.
                controller.RecordPass(report.PagesRead * _memory.PageSize, report.Duration);
                PassCompleted?.Invoke(report);
                pass++;

                // Decide on a look that leaves the pages writable: re-arming them here would have the
                // guest fault on its whole hot set right before the pause. The set is kept, so the
                // next collection (the final one, with the guest paused: one state sync) only adds.
                dirty.Clear();
                var scanRanges = PassPlan.ScanRanges(_memory);
                _tracker.Peek(dirty, scanRanges);
                var decision = controller.Decide(dirty.Count * _memory.PageSize);
                if (decision == ConvergenceDecision.SwitchOver)
                {
                    break;
                }

                if (decision == ConvergenceDecision.GiveUp)
                {
                    throw new MigrationFailedException(controller.GiveUpReason!);
                }

                _tracker.CollectAndClear(dirty, scanRanges);
                pieces = PassPlan.DirtyPass(dirty);
            }

            // Switch-over: one pause, one device-state capture, one final scan. The destination hears of it
            // first, so that it readies the incoming guest while this side pauses, scans and sends.
            streams[0].AnnounceSwitchover();
            pauseAt = _time.GetTimestamp();
            var deviceState = await _guest.PauseAsync(cancellationToken);
            pauseAt += (long)(_guest.PauseLead.TotalSeconds * _time.TimestampFrequency);
            paused = true;
            long pausedAt = _time.GetTimestamp();
            _tracker.CollectAndClear(dirty, PassPlan.ScanRanges(_memory));
            finalPages = dirty.Count;
            long scannedAt = _time.GetTimestamp();
            var (final, runningAt) = await SendFinalPass(streams, pass, PassPlan.DirtyPass(dirty), deviceState, commit);
            reports.Add(final);
            long acknowledgedAt = commit.At;
            await cancelRegistration.DisposeAsync();

            // Deferred cleanup, outside the downtime window and timed on its own.
            long cleanupStart = _time.GetTimestamp();
            _tracker.Dispose();
            DisposeAll(streams);

            // The source is paused for good and its RAM frozen until the guest is stopped: the moment to
            // prove that the target got the last version of every page.
            var ramCheck = _options.VerifyRam ? sent?.Check(_memory) : null;
            await _guest.StopAsync(CancellationToken.None);
            if (_options.FreeSourceRam)
            {
                _memory.ZeroPages(new PageRange(0, _memory.PageCount));
            }

            var result = Measure(reports, controller, finalPages) with
            {
                Succeeded = ramCheck?.Passed ?? true,
                FailureReason = ramCheck is { Passed: false } ? $"after switch-over: {ramCheck}" : null,
                RamCheck = ramCheck,
                SourceRunning = false,
                TotalTime = _time.GetElapsedTime(start, runningAt),
                Downtime = _time.GetElapsedTime(pauseAt, runningAt),
                Switchover = new SwitchoverTimings(_time.GetElapsedTime(pauseAt, pausedAt), _time.GetElapsedTime(pausedAt, scannedAt),
                    _time.GetElapsedTime(scannedAt, acknowledgedAt), _time.GetElapsedTime(acknowledgedAt, runningAt)),
                SetupTime = setup,
                CleanupTime = _time.GetElapsedTime(cleanupStart),
            };
            Record(result);
            return result;
        }
        // NotSupportedException: a NetworkStream whose socket a cancel closed mid-pass refuses to write.
        catch (Exception e) when (e is MigrationFailedException or SocketException or OperationCanceledException or ObjectDisposedException
            or NotSupportedException || e is IOException and not FileNotFoundException)
        {
            await cancelRegistration.DisposeAsync();
            bool committed = commit.Committed;
            if (cancellationToken.IsCancellationRequested && !committed)
            {
                e = new MigrationFailedException("cancelled");
            }

            foreach (var stream in streams)
            {
                stream.TryAbort();
            }

            DisposeAll(streams);
            _tracker.Dispose();
            bool sourceRunning = !committed;
            if (paused && !committed)
            {
                await _guest.ResumeAsync(CancellationToken.None);
            }

            string reason = committed ? $"after switch-over: {e.Message}" : e.Message;
            var failed = Measure(reports, controller, finalPages) with
            {
                Succeeded = false,
                FailureReason = reason,
                SourceRunning = sourceRunning,
                TotalTime = _time.GetElapsedTime(start),
                SetupTime = setup,
            };
            Record(failed);
            return failed;
        }
    }

    private static void Record(EngineResult result)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", result.Succeeded ? "completed" : "failed");
        TransferMetrics.Migrations.Add(1, outcome);
        TransferMetrics.BytesSent.Add(result.BytesSent);
        if (result.Succeeded)
        {
            TransferMetrics.Downtime.Record(result.Downtime.TotalMilliseconds);
            TransferMetrics.TotalTime.Record(result.TotalTime.TotalMilliseconds);
            TransferMetrics.CleanupTime.Record(result.CleanupTime.TotalMilliseconds);
        }
    }

    private static EngineResult Measure(List<PassReport> reports, ConvergenceController controller, long finalPages) => new()
    {
        Succeeded = false,
        SourceRunning = true,
        Passes = reports.Count,
        PagesSent = reports.Sum(r => r.PagesSent),
        ZeroPages = reports.Sum(r => r.ZeroPages + r.SkippedPages),
        BytesSent = reports.Sum(r => r.Bytes),
        FinalPassPages = finalPages,
        DirtyRate = controller.DirtyRate,
        Bandwidth = controller.Bandwidth,
        PassReports = reports,
    };

    private async Task<PassReport> SendPass(List<SourceStream> streams, int pass, List<PassPiece> pieces, bool final, ReadOnlyMemory<byte> deviceState)
    {
        long bytes = streams.Sum(s => s.BytesWritten), pages = streams.Sum(s => s.PagesSent);
        long zeros = streams.Sum(s => s.ZeroPages), skipped = streams.Sum(s => s.SkippedPages), unchanged = streams.Sum(s => s.UnchangedPages);
        long started = _time.GetTimestamp();
        await ForEachStream(streams, s => s.SendPass(pass, pieces, final, s.Index == 0 ? deviceState : default));
        return new PassReport(pass, streams.Sum(s => s.PagesSent) - pages, streams.Sum(s => s.ZeroPages) - zeros,
            streams.Sum(s => s.SkippedPages) - skipped, streams.Sum(s => s.BytesWritten) - bytes, _time.GetElapsedTime(started),
            streams.Sum(s => s.UnchangedPages) - unchanged);
    }

    /// <summary>
    /// The stop-and-copy pass without thread hops. A small final set (what the socket buffers take
    /// without blocking) goes out on every stream from this thread, and the acks are read here too:
    /// waking each stream's thread would cost more than writing its share. A larger one runs stream
    /// 0 here and the others on their threads. Either way stream 0 then reads the running
    /// confirmation on this thread. Commits when every stream's ack is in, or when the destination
    /// confirms the guest runs.
    /// </summary>
    private async Task<(PassReport Report, long RunningAt)> SendFinalPass(List<SourceStream> streams, int pass, List<PassPiece> pieces,
        ReadOnlyMemory<byte> deviceState, SwitchoverCommit commit)
    {
        long bytes = streams.Sum(s => s.BytesWritten), pages = streams.Sum(s => s.PagesSent);
        long zeros = streams.Sum(s => s.ZeroPages), skipped = streams.Sum(s => s.SkippedPages), unchanged = streams.Sum(s => s.UnchangedPages);
        long started = _time.GetTimestamp();
        bool inline = pieces.Sum(p => p.Range.Count) * _memory.PageSize <= InlineFinalPassBytes;
        var others = inline ? [] : streams.Skip(1).Select(stream => stream.RunAsync(s =>
        {
            s.SendPass(pass, pieces, final: true, default);
            commit.Acknowledged(_time);
        })).ToArray();
        long runningAt;
        try
        {
            foreach (var stream in inline ? streams : streams.Take(1))
            {
                stream.WritePass(pass, pieces, final: true, stream.Index == 0 ? deviceState : default);
            }

            foreach (var stream in inline ? streams : streams.Take(1))
            {
                stream.ExpectFinalAck(pass);
                commit.Acknowledged(_time);
            }

            streams[0].ExpectRunning();
            runningAt = _time.GetTimestamp();
            commit.Running(runningAt);
        }
        catch
        {
            DisposeAll(streams); // unblocks the other streams, which may wait on a destination that waits for this one
            await Task.WhenAll(others.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
            throw;
        }

        await ForEachStreamTask(streams, others);
        return (new PassReport(pass, streams.Sum(s => s.PagesSent) - pages, streams.Sum(s => s.ZeroPages) - zeros,
            streams.Sum(s => s.SkippedPages) - skipped, streams.Sum(s => s.BytesWritten) - bytes, _time.GetElapsedTime(started, commit.At),
            streams.Sum(s => s.UnchangedPages) - unchanged), runningAt);
    }

    private static Task ForEachStream(List<SourceStream> streams, Action<SourceStream> work) =>
        ForEachStreamTask(streams, streams.Select(s => s.RunAsync(work)).ToArray());

    private static async Task ForEachStreamTask(List<SourceStream> streams, Task[] tasks)
    {
        // Each stream blocks on its own socket, on its own thread.
        try
        {
            await Task.WhenAll(tasks);
        }
        catch
        {
            // One stream failed: the others may be blocked on a healthy peer waiting for it, so close them all.
            foreach (var stream in streams)
            {
                stream.Dispose();
            }

            var failure = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(
                e => e is MigrationFailedException) ?? tasks.First(t => t.IsFaulted).Exception!.InnerException!;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    private async Task<SourceStream> ConnectAsync(IPEndPoint destination, int index, SentPageHashes? sent, CancellationToken cancellationToken)
    {
        var client = new TcpClient(destination.AddressFamily) { NoDelay = true };
        int timeout = (int)Math.Min(int.MaxValue, _options.ProgressTimeout.TotalMilliseconds);
        client.SendTimeout = timeout;
        client.ReceiveTimeout = timeout;
        client.SendBufferSize = 4 << 20;
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectTimeout.CancelAfter(_options.ProgressTimeout);
        try
        {
            await client.ConnectAsync(destination, connectTimeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            client.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            throw new MigrationFailedException($"stream {index}: cannot connect to {destination}: {e.Message}");
        }

        return new SourceStream(client, _memory, _options.Bandwidth, index, _options.Streams, sent, _options.SkipUnchangedPages);
    }

    internal static void DisposeAll(List<SourceStream> streams)
    {
        foreach (var stream in streams)
        {
            stream.Dispose();
        }
    }
}
