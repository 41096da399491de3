using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using TransportKind = Ferry.Domain.Migrations.TransportKind;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Migration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// The native transport for QEMU guests. Live: the engine copies the RAM file while QEMU runs and
/// the tracker reports what every writer of that file wrote (QEMU, and ovs-vswitchd for vhost-user
/// ports); at switch-over the guest is paused, QEMU's device state is captured once (x-ignore-shared:
/// no RAM in it), the final dirty pages and the device state cross together, the target loads the
/// state and resumes, and only then is the source removed. Paused copy (no tracker): the guest is
/// paused before the first page is read, so no write can be missed, and the downtime reported starts
/// at that pause.
/// </summary>
internal sealed partial class NativeTransport(
    IQemuGuestTracking trackers,
    IOptions<NativeTransportOptions> nativeOptions,
    TimeProvider timeProvider,
    ILogger<NativeTransport> logger) : IMigrationTransport
{
    private static readonly TimeSpan RecoveryBudget = TimeSpan.FromSeconds(10);

    /// <summary>How often a pass in flight reports the bytes written so far.</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    public TransportKind Kind => TransportKind.Native;

    public async Task<TransportResult> MigrateAsync(TransportRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var migration = request.Migration;
        var source = request.Source;
        var choice = migration.Transport;
        var started = timeProvider.GetTimestamp();
        if (migration.PageStream is not { } destination || migration.PageStreamToken is not { } token)
        {
            return await FailBeforeStartAsync(request, "the native transport needs the target's page_stream_port and page_stream_token in the Migrate request (from PrepareIncomingReply); none were given");
        }

        GuestMemory memory;
        try
        {
            memory = GuestMemory.Open(source.Layout.RamFile, NativePaging.PageSize);
        }
        catch (IOException ex)
        {
            return await FailBeforeStartAsync(request, $"the guest's RAM file cannot be mapped: {ex.Message}");
        }

        using (memory)
        {
            IDirtyTracker tracker;
            try
            {
                tracker = choice.PausedCopy ? new PausedGuestTracker() : OpenTracker(source, memory);
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or NotSupportedException)
            {
                return await FailBeforeStartAsync(request, $"no dirty tracker for the live passes: {ex.Message}");
            }

            var settings = migration.Settings;
            var options = new MigrationOptions
            {
                Streams = settings.ParallelStreams,
                DowntimeBudget = settings.DowntimeLimit,
                CompletionTimeout = settings.CompletionTimeout,
                ProgressTimeout = settings.ProgressTimeout,
                Bandwidth = new BandwidthLimiter(settings.MaxBandwidthBytesPerSecond >= MigrationSettings.Unlimited ? 0 : settings.MaxBandwidthBytesPerSecond),
                FreeSourceRam = true,
                VerifyRam = nativeOptions.Value.VerifyRam,

                // Every tracker reports a hugetlbfs guest's writes per 2 MiB page.
                SkipUnchangedPages = source.Spec.Backing == MemoryBacking.Hugetlbfs,
            };
            EngineProgress? progress = null;
            var control = new QemuGuestControl(
                source.Qmp,
                alreadyPaused: choice.PausedCopy,
                paused: () =>
                {
                    progress?.Stop();
                    request.Observer.SwitchingOver();
                },
                stopSource: async ct =>
                {
                    request.Observer.CleaningUp();
                    await request.DeferredSourceCleanup(ct);
                },
                timeProvider);
            var engine = new SourceMigration(memory, tracker, control, PageStreamCredentials.For(migration.MigrationId, token), options, timeProvider);

            // QEMU is set up for the device-state-only stream now, outside the downtime. A paused copy then
            // pauses before the first page is read; the engine's own pause only captures the device state.
            var pausedAt = 0L;
            try
            {
                await QemuDeviceState.ConfigureAsync(source.Qmp, cancellationToken);
                if (choice.PausedCopy)
                {
                    pausedAt = timeProvider.GetTimestamp();
                    await source.Qmp.StopAsync(cancellationToken);
                }
            }
            catch (Exception ex) when (ex is IOException or QmpException or OperationCanceledException)
            {
                tracker.Dispose();
                return ex is OperationCanceledException
                    ? await CancelBeforeStartAsync(request)
                    : await FailBeforeStartAsync(request, $"preparing the source QEMU failed: {ex.Message}");
            }

            var engineStarted = timeProvider.GetTimestamp();
            Log.Starting(logger, migration.MigrationId, migration.Guest, destination.ToString(), choice.Reason);
            EngineResult result;
            progress = new EngineProgress(engine, request.Observer, memory.Size, ProgressInterval, timeProvider);
            try
            {
                result = await engine.RunAsync(destination, cancellationToken);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The engine let an exception through and skipped its own recovery.
                await progress.DisposeAsync();
                tracker.Dispose();
                return await RecoverAsync(request, control, ex, cancellationToken);
            }

            await progress.DisposeAsync();

            var total = timeProvider.GetElapsedTime(started, engineStarted) + result.TotalTime;

            // A paused copy's downtime is everything from its pause: the whole engine run until the target ran.
            var downtime = choice.PausedCopy ? timeProvider.GetElapsedTime(pausedAt, engineStarted) + result.TotalTime : result.Downtime;
            var measurements = Measure(result, choice, memory.PageSize, total, downtime) with
            {
                PausedAt = choice.PausedCopy ? null : control.PausedAt,
                DowntimeParts = choice.PausedCopy || result.Switchover is not { } parts ? null : new DowntimeParts(
                    parts.Pause.TotalMilliseconds, parts.FinalScan.TotalMilliseconds, parts.FinalTransfer.TotalMilliseconds, parts.TargetStart.TotalMilliseconds),
            };
            var last = new TransportProgress(result.Passes, result.BytesSent, 0, memory.Size, measurements.Pages.DirtyPagesPerSecond, measurements.Pages.ThroughputMbps);
            Log.Passes(logger, migration.MigrationId, string.Join(", ", result.PassReports.Select(p =>
                    string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{p.Pass}: {p.PagesSent} pages ({p.UnchangedPages} unchanged)/{p.Bytes / 1024} KiB in {p.Duration.TotalMilliseconds:0.###} ms"))),
                result.FinalPassPages, control.PauseSteps?.Lead.TotalMilliseconds ?? 0, control.PauseSteps?.Capture.TotalMilliseconds ?? 0);
            if (result.Succeeded)
            {
                Log.Completed(logger, migration.MigrationId, measurements.TotalTimeMs, measurements.DowntimeMs, measurements.CleanupTimeMs, result.Switchover?.ToString());
                return new TransportResult(MigrationOutcome.Completed, null, true, last, measurements);
            }

            if (!result.SourceRunning)
            {
                // Every page and the device state reached the target: the guest is there, whatever failed after.
                return TransportResult.Failed($"native: {result.FailureReason}", guestOnTarget: true, last, measurements);
            }

            return cancellationToken.IsCancellationRequested
                ? await CancelBeforeStartAsync(request, last)
                : await FailBeforeStartAsync(request, result.FailureReason ?? "the engine failed", last);
        }
    }

    /// <summary>The tracker the verdict chose, over every writer of the guest's RAM; it takes the current writers, not the ones seen when the transport was chosen.</summary>
    private IDirtyTracker OpenTracker(QemuProcess source, GuestMemory memory)
    {
        var verdict = trackers.ForGuest(source);
        return verdict switch
        {
            { Available: false } => throw new IOException(verdict.Reason),
            { Kind: DirtyTrackerKind.UserfaultfdWriteProtect } => ProcessWriteTracker.Open(verdict.Writers, memory),
            _ => SoftDirtyTracker.Open(verdict.Processes, memory),
        };
    }

    /// <summary>
    /// Before the engine paused for switch-over nothing can have reached the target for good: the source
    /// is resumed. After that pause the target may hold the guest; the source is never resumed then, and
    /// only the target can say whether it runs the guest.
    /// </summary>
    private async Task<TransportResult> RecoverAsync(TransportRequest request, QemuGuestControl control, Exception ex, CancellationToken cancellationToken)
    {
        var what = $"the engine failed: {ex.GetType().Name}: {ex.Message}";
        Log.EngineFailed(logger, ex, request.Migration.MigrationId);
        if (!control.SwitchingOver)
        {
            return cancellationToken.IsCancellationRequested ? await CancelBeforeStartAsync(request) : await FailBeforeStartAsync(request, what);
        }

        var onTarget = false;
        try
        {
            using var budget = new CancellationTokenSource(RecoveryBudget, timeProvider);
            onTarget = (await request.Target.QueryStatusAsync(budget.Token)).Running;
        }
        catch (Exception query) when (query is QmpException or OperationCanceledException or IOException)
        {
            Log.TargetUnknown(logger, query.Message);
        }

        return TransportResult.Failed(
            $"native: {what}, after the guest was paused for switch-over; " + (onTarget ? "it runs at the target" : "the source stays paused for an operator"),
            onTarget);
    }

    private async Task<TransportResult> CancelBeforeStartAsync(TransportRequest request, TransportProgress? last = null)
    {
        await RestoreSourceAsync(request);
        Log.Failed(logger, "cancelled");
        return TransportResult.Cancelled(last);
    }

    /// <summary>Before switch-over the source is the truth: make sure it runs, remove the target, say why.</summary>
    private async Task<TransportResult> FailBeforeStartAsync(TransportRequest request, string reason, TransportProgress? last = null)
    {
        await RestoreSourceAsync(request);
        var failure = $"native: {reason}";
        Log.Failed(logger, failure);
        return TransportResult.Failed(failure, guestOnTarget: false, last);
    }

    private async Task RestoreSourceAsync(TransportRequest request)
    {
        var source = request.Source;
        using var budget = new CancellationTokenSource(RecoveryBudget, timeProvider);
        try
        {
            if (!source.HasExited && !(await source.Qmp.QueryStatusAsync(budget.Token)).Running)
            {
                await source.Qmp.ContAsync(budget.Token);
            }

            if (!source.HasExited)
            {
                await QemuDeviceState.ResetAsync(source.Qmp);
            }
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException)
        {
            Log.SourceNotResumed(logger, ex.Message);
        }

        try
        {
            await request.Target.TearDownAsync(budget.Token);
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException or IOException)
        {
            Log.TargetTeardownFailed(logger, ex.Message);
        }
    }

    private static MigrationMeasurements Measure(EngineResult result, TransportChoice choice, int pageSize, TimeSpan total, TimeSpan downtime) => new()
    {
        Transport = TransportKind.Native,
        TransportReason = choice.Reason,
        TotalTimeMs = total.TotalMilliseconds,
        DowntimeMs = downtime.TotalMilliseconds,
        SetupTimeMs = result.SetupTime.TotalMilliseconds,
        Pages = new PageTransfer(result.BytesSent, result.ZeroPages, result.PagesSent, result.Passes, result.DirtyRate / pageSize, result.Bandwidth * 8 / 1e6),
        CleanupTimeMs = result.CleanupTime.TotalMilliseconds,
        RamCheck = result.RamCheck?.ToString(),
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.NativeStarting, Level = LogLevel.Information, Message = "Migration {MigrationId}: the engine moves guest {Guest} to {Destination} ({Reason})")]
        public static partial void Starting(ILogger logger, string migrationId, string guest, string destination, string reason);

        [LoggerMessage(EventId = AgentEventIds.NativeCompleted, Level = LogLevel.Information, Message = "Migration {MigrationId} completed natively: total {TotalMs} ms, downtime {DowntimeMs} ms, cleanup {CleanupMs} ms; switch-over {Switchover}")]
        public static partial void Completed(ILogger logger, string migrationId, double totalMs, double downtimeMs, double cleanupMs, string? switchover);

        [LoggerMessage(EventId = AgentEventIds.NativeFailed, Level = LogLevel.Warning, Message = "Native migration failed before switch-over: {Reason}")]
        public static partial void Failed(ILogger logger, string? reason);

        [LoggerMessage(EventId = AgentEventIds.NativeSourceNotResumed, Level = LogLevel.Error, Message = "The source guest could not be resumed after the failed native migration: {Reason}")]
        public static partial void SourceNotResumed(ILogger logger, string reason);

        [LoggerMessage(EventId = AgentEventIds.NativeEngineFailed, Level = LogLevel.Error, Message = "Migration {MigrationId}: the page-transfer engine failed unexpectedly")]
        public static partial void EngineFailed(ILogger logger, Exception exception, string migrationId);

        [LoggerMessage(EventId = AgentEventIds.NativeTargetUnknown, Level = LogLevel.Error, Message = "Cannot tell whether the target runs the guest: {Reason}")]
        public static partial void TargetUnknown(ILogger logger, string reason);

        [LoggerMessage(EventId = AgentEventIds.NativePasses, Level = LogLevel.Information, Message = "Migration {MigrationId}: passes {Passes}; final {FinalPages} pages; device state: {LeadMs} ms of QEMU's setup with the guest running, then {CaptureMs} ms from its stop to the state's end")]
        public static partial void Passes(ILogger logger, string migrationId, string passes, long finalPages, double leadMs, double captureMs);

        [LoggerMessage(EventId = AgentEventIds.NativeTargetTeardownFailed, Level = LogLevel.Error, Message = "Tearing down the native target failed: {Reason}")]
        public static partial void TargetTeardownFailed(ILogger logger, string reason);
    }
}
