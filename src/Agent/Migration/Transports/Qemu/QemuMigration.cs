using System.Globalization;
using Ferry.Agent.Qmp;
using Microsoft.Extensions.Logging;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>
/// Drives one migration with QEMU's own loop. The invariant it protects: before switch-over the
/// source stays the truth (every failure path cancels, tears the target down and checks the source
/// runs); after switch-over the source is never resumed, and it is cleaned up only once the target runs.
/// </summary>
internal sealed partial class QemuMigration(TimeProvider timeProvider, QemuMigrationMetrics metrics, ILogger<QemuMigration> logger) : IQemuMigration
{
    /// <summary>Bounds every QMP call made while cleaning up, when the caller's token may already be cancelled.</summary>
    private static readonly TimeSpan RecoveryBudget = TimeSpan.FromSeconds(10);

    /// <summary>How long a new migration waits for an earlier, still cancelling one of the same QEMU to settle.</summary>
    private static readonly TimeSpan EarlierMigrationBudget = TimeSpan.FromSeconds(30);

    /// <summary>How much longer than the downtime limit QMP may stay silent during stop-and-copy.</summary>
    private static readonly TimeSpan StopAndCopyGrace = TimeSpan.FromSeconds(30);

    public async Task PrepareIncomingAsync(IQmpClient target, MigrationUri listen, MigrationSettings settings, QemuMigrationTls? tls, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(settings);

        // multifd must be on at both ends with the same channel count, or the streams do not pair up.
        // The announcement (QEMU's RARP) is what a learning fabric converges on: at once, not 50 ms late.
        await target.SetMigrationCapabilitiesAsync(Capabilities(settings, source: false), cancellationToken);

        // With TLS every connection to the port, multifd ones included, must complete a TLS handshake with a
        // certificate from the cluster CA, and the source host's (tls-authz), before QEMU reads a byte of
        // migration stream from it.
        await ArmTlsAsync(target, tls, TlsEndpoint.Server, cancellationToken);
        await target.SetMigrationParametersAsync(
            new MigrationParameters
            {
                MultifdChannels = settings.ParallelStreams > 1 ? settings.ParallelStreams : null,
                AnnounceInitialMs = 1,
                TlsCreds = tls is null ? string.Empty : QemuMigrationTls.ObjectId,
                // Only ever set, never emptied: QEMU 7.2 reads an empty tls-authz as the id of an object it
                // cannot find and denies every peer ("Cannot find QAuthZ object ID"); a QEMU listens once.
                TlsAuthz = tls is { RestrictsPeers: true } ? QemuMigrationTls.AuthorizationObjectId : null,
            },
            cancellationToken);

        await target.MigrateIncomingAsync(listen, cancellationToken);
        Log.IncomingPrepared(logger, listen.Value, tls?.Describe() ?? "plain TCP");
    }

    public async Task<QemuMigrationResult> MigrateAsync(QemuMigrationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await RunAsync(request, cancellationToken);
        if (request.Tls is not null && result.Outcome != MigrationOutcome.Completed)
        {
            // The source stays the guest: it keeps no key it no longer needs. A completed source has quit.
            using var budget = Budget(RecoveryBudget);
            await DropTlsAsync(request.Source, budget.Token);
        }

        metrics.Record(result);
        return result;
    }

    private async Task<QemuMigrationResult> RunAsync(QemuMigrationRequest request, CancellationToken cancellationToken)
    {
        var settings = request.Settings;
        var source = request.Source;
        using var events = source.SubscribeEvents();
        var passes = 0L;

        try
        {
            await SetSourceCapabilitiesAsync(source, settings, cancellationToken);
            await ArmTlsAsync(source, request.Tls, TlsEndpoint.Client, cancellationToken);
            await source.SetMigrationParametersAsync(
                new MigrationParameters
                {
                    DowntimeLimitMs = (long)settings.DowntimeLimit.TotalMilliseconds,
                    MaxBandwidthBytesPerSecond = settings.MaxBandwidthBytesPerSecond,
                    MultifdChannels = settings.ParallelStreams > 1 ? settings.ParallelStreams : null,

                    // Set on or off every time: QEMU keeps both from the guest's earlier migrations.
                    TlsCreds = request.Tls is null ? string.Empty : QemuMigrationTls.ObjectId,
                    TlsHostname = request.Tls?.TargetHostName ?? string.Empty,
                },
                cancellationToken);
            Log.Starting(logger, request.Destination.Value, settings.DowntimeLimit.TotalMilliseconds, settings.MaxBandwidthBytesPerSecond, settings.ParallelStreams,
                request.Tls?.Describe() ?? "plain TCP");
            await source.MigrateAsync(request.Destination, cancellationToken);
        }
        catch (QmpException ex)
        {
            // A refused command means QEMU started nothing of ours; migrate_cancel would instead cancel
            // whatever else it is running. Any other failure leaves it unknown, so cancel to be safe.
            return await AbortAsync(request, null, MigrationOutcome.Failed, $"Starting the migration failed: {ex.Message}", cancelOnSource: ex.Failure != QmpFailure.CommandFailed);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return await AbortAsync(request, null, MigrationOutcome.Cancelled, "Cancelled before the migration started.");
        }

        var started = timeProvider.GetTimestamp();
        var lastProgress = started;
        var targetAnswered = started;
        var stopAndCopy = false;
        var continued = false;
        var targetAsked = started;
        var lastTransferred = -1L;
        MigrationInfo? lastSeen = null;
        MigrationInfo info;
        try
        {
            while (true)
            {
                await WaitForEventOrPollAsync(events, settings.PollInterval, cancellationToken);
                while (events.Reader.TryRead(out var e))
                {
                    if (e.Name == QmpEvent.MigrationPass && e.Data.TryGetProperty("pass"u8, out var pass) && pass.TryGetInt64(out var n))
                    {
                        passes = Math.Max(passes, n);
                    }
                }

                // In stop-and-copy QEMU's main loop waits for the final copy, and QMP with it: a large
                // downtime limit means a long silence that is not a lost QEMU.
                info = await source.QueryMigrateAsync(cancellationToken, stopAndCopy ? settings.DowntimeLimit + StopAndCopyGrace : null);
                stopAndCopy |= info.State == QmpMigrationStatus.Device;
                lastSeen = info.Ram is null ? lastSeen : info;
                var ram = info.Ram;
                passes = Math.Max(passes, ram?.DirtySyncCount ?? 0);
                request.Progress?.Report(new QemuMigrationProgress(
                    info.State, passes, ram?.Transferred ?? 0, ram?.Remaining ?? 0, ram?.Total ?? 0, ram?.DirtyPagesRate ?? 0, ram?.Mbps ?? 0));

                switch (info.State)
                {
                    case QmpMigrationStatus.Completed:
                        return await CompleteAsync(request, info, passes);
                    case QmpMigrationStatus.Failed:
                        return await AbortAsync(request, lastSeen, MigrationOutcome.Failed, $"QEMU reported the migration failed: {info.ErrorDescription ?? "no reason given"}");
                    case QmpMigrationStatus.Cancelled:
                        return await AbortAsync(request, lastSeen, MigrationOutcome.Failed, "The migration was cancelled outside Ferry.");
                    case QmpMigrationStatus.PreSwitchover when settings.ConfirmTargetBeforeSwitchover && !continued:
                        if (await ConfirmTargetAsync(request) is { } refusal)
                        {
                            return await AbortAsync(request, lastSeen, MigrationOutcome.Failed, refusal);
                        }

                        await source.MigrateContinueAsync(cancellationToken);
                        // Once: migrate-continue only wakes QEMU's migration thread, which leaves pre-switchover when it
                        // runs; a poll before that still reads pre-switchover, and a second continue then fails with
                        // "Migration not in expected state: device" (seen in the fault suite, on a loaded machine).
                        continued = true;
                        stopAndCopy = true;
                        continue;
                }

                if (ram is not null && ram.Transferred > lastTransferred)
                {
                    lastTransferred = ram.Transferred;
                    lastProgress = timeProvider.GetTimestamp();
                }

                if (timeProvider.GetElapsedTime(lastProgress) > settings.ProgressTimeout)
                {
                    return await AbortAsync(request, lastSeen, MigrationOutcome.Failed, $"No progress for {Format(settings.ProgressTimeout)} (state {info.Status}, {lastTransferred} bytes sent).");
                }

                if (timeProvider.GetElapsedTime(started) > settings.CompletionTimeout)
                {
                    return await AbortAsync(request, lastSeen, MigrationOutcome.Failed, $"Not completed within {Format(settings.CompletionTimeout)} (state {info.Status}, {ram?.Remaining ?? 0} bytes remaining, pass {passes}).");
                }

                if (timeProvider.GetElapsedTime(targetAsked) >= settings.TargetCheckInterval)
                {
                    targetAsked = timeProvider.GetTimestamp();
                    if (await TargetAnswersAsync(request))
                    {
                        targetAnswered = targetAsked;
                    }
                    else if (timeProvider.GetElapsedTime(targetAnswered) > settings.TargetLostTimeout)
                    {
                        return await AbortAsync(request, lastSeen, MigrationOutcome.Failed, $"The target has not answered for {Format(settings.TargetLostTimeout)}; the guest stays on the source.");
                    }
                }
            }
        }
        catch (QmpException ex)
        {
            return await AbortAsync(request, lastSeen, MigrationOutcome.Failed, $"Lost control of the source QEMU: {ex.Message}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return await AbortAsync(request, lastSeen, MigrationOutcome.Cancelled, "Cancelled on request.");
        }
    }

    /// <summary>
    /// At the brink of switch-over, with the source paused: null when the target answers that it waits
    /// for the guest, otherwise why the migration must not go on. The source is still the guest here;
    /// cancelling resumes it.
    /// </summary>
    private async Task<string?> ConfirmTargetAsync(QemuMigrationRequest request)
    {
        var started = timeProvider.GetTimestamp();
        try
        {
            using var budget = Budget(request.Settings.SwitchoverConfirmTimeout);
            var state = await request.Target.QueryStatusAsync(budget.Token);
            Log.TargetConfirmed(logger, state.Status, timeProvider.GetElapsedTime(started).TotalMilliseconds);
            return state.Status == "inmigrate" ? null : $"At switch-over the target was '{state.Status}', not waiting for the guest; the guest stays on the source.";
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException or IOException)
        {
            return $"At switch-over the target did not answer ({ex.Message}); the guest stays on the source.";
        }
    }

    /// <summary>Whether the target (its agent, between hosts) answers within one check interval.</summary>
    private async Task<bool> TargetAnswersAsync(QemuMigrationRequest request)
    {
        try
        {
            using var budget = Budget(request.Settings.TargetCheckInterval);
            await request.Target.QueryStatusAsync(budget.Token);
            return true;
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException or IOException)
        {
            Log.TargetSilent(logger, ex.Message);
            return false;
        }
    }

    private async Task<QemuMigrationResult> CompleteAsync(QemuMigrationRequest request, MigrationInfo info, long passes)
    {
        info = await SettleAsync(request, info);
        if (request.SwitchedOver is { } switchedOver)
        {
            await switchedOver();
        }

        var stats = ToStats(info, passes);
        Log.Completed(logger, stats.TotalTimeMs, stats.DowntimeMs, stats.SetupTimeMs, stats.TransferredBytes, stats.Passes);

        // Switch-over has happened: from here the source must never run again, whatever the target says.
        var deadline = timeProvider.GetTimestamp();
        while (true)
        {
            RunState state;
            try
            {
                using var budget = Budget(request.Settings.TargetResumeTimeout);
                state = await request.Target.QueryStatusAsync(budget.Token);
            }
            catch (Exception ex) when (ex is QmpException or OperationCanceledException or IOException)
            {
                return new QemuMigrationResult(MigrationOutcome.Failed, $"Switch-over done but the target could not be asked whether it runs: {ex.Message}", stats, SourceRunning: false, null);
            }

            if (state.Running)
            {
                break;
            }

            if (timeProvider.GetElapsedTime(deadline) > request.Settings.TargetResumeTimeout)
            {
                return new QemuMigrationResult(MigrationOutcome.Failed, $"Switch-over done but the target stayed '{state.Status}'.", stats, SourceRunning: false, null);
            }

            await Task.Delay(request.Settings.PollInterval, timeProvider, CancellationToken.None);
        }

        // Deferred cleanup: outside the measured migration, timed on its own.
        var cleanupStarted = timeProvider.GetTimestamp();
        try
        {
            using var budget = Budget(RecoveryBudget);
            await (request.DeferredSourceCleanup ?? request.Source.QuitAsync)(budget.Token);
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException or IOException)
        {
            // The guest runs on the target; a cleanup problem is logged, not a failed migration.
            Log.CleanupFailed(logger, ex.Message);
        }

        var cleanup = timeProvider.GetElapsedTime(cleanupStarted);
        Log.CleanedUp(logger, cleanup.TotalMilliseconds);
        return new QemuMigrationResult(MigrationOutcome.Completed, null, stats, SourceRunning: false, cleanup);
    }

    /// <summary>
    /// Sets the source's capabilities. QEMU refuses while an earlier migration of this guest has not settled ("There's
    /// a migration process in progress"): after a cut link its cancel can stay in "cancelling" past the agent's
    /// recovery budget, while the guest already runs on here. Such a refusal waits for that migration to settle
    /// (<see cref="EarlierMigrationBudget"/>) and asks once more; any other refusal stands.
    /// </summary>
    private async Task SetSourceCapabilitiesAsync(IQmpClient source, MigrationSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            await source.SetMigrationCapabilitiesAsync(Capabilities(settings, source: true), cancellationToken);
            return;
        }
        catch (QmpException ex) when (ex.Failure == QmpFailure.CommandFailed)
        {
            if (!await EarlierMigrationSettledAsync(source, settings, cancellationToken))
            {
                throw;
            }
        }

        await source.SetMigrationCapabilitiesAsync(Capabilities(settings, source: true), cancellationToken);
    }

    /// <summary>True when QEMU was still running an earlier migration and it has now settled; false when none was running or it did not settle in time.</summary>
    private async Task<bool> EarlierMigrationSettledAsync(IQmpClient source, MigrationSettings settings, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(EarlierMigrationBudget);
        try
        {
            var state = (await source.QueryMigrateAsync(budget.Token)).State;
            if (state.IsFinal() || state == QmpMigrationStatus.None)
            {
                return false;
            }

            Log.EarlierMigrationUnsettled(logger, state);
            while (!state.IsFinal() && state != QmpMigrationStatus.None)
            {
                await Task.Delay(settings.PollInterval, timeProvider, budget.Token);
                state = (await source.QueryMigrateAsync(budget.Token)).State;
            }

            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// QEMU 7.2 publishes status "completed" a moment before it computes total-time and downtime, so
    /// a query in between reads zeros; ask again briefly rather than report a 0 ms migration.
    /// </summary>
    private async Task<MigrationInfo> SettleAsync(QemuMigrationRequest request, MigrationInfo info)
    {
        try
        {
            using var budget = Budget(TimeSpan.FromSeconds(2));
            while (info.TotalTimeMs is null or 0 && !budget.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), timeProvider, budget.Token);
                info = await request.Source.QueryMigrateAsync(budget.Token);
            }
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException)
        {
            // Keep what we have; the guest has moved either way.
        }

        return info;
    }

    /// <summary>Cancels on the source, removes the target and makes sure the source still runs.</summary>
    private async Task<QemuMigrationResult> AbortAsync(QemuMigrationRequest request, MigrationInfo? lastSeen, MigrationOutcome outcome, string reason, bool cancelOnSource = true)
    {
        Log.Aborting(logger, outcome, reason);
        var final = cancelOnSource ? await CancelOnSourceAsync(request) : null;
        if (final?.State == QmpMigrationStatus.Completed)
        {
            // The cancel lost the race against switch-over: the guest now lives on the target.
            return await CompleteAsync(request, final, final.Ram?.DirtySyncCount ?? 0);
        }

        try
        {
            using var budget = Budget(RecoveryBudget);
            await request.Target.TearDownAsync(budget.Token);
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException or IOException)
        {
            Log.TargetTeardownFailed(logger, ex.Message);
        }

        var sourceRunning = await SourceRunsAsync(request);
        if (sourceRunning == false)
        {
            Log.SourceNotRunning(logger);
        }

        // After a cancel QEMU reports only a status, so the statistics are the last ones seen while it ran.
        var stats = (final?.Ram is not null ? final : lastSeen) is { } seen ? ToStats(seen, seen.Ram?.DirtySyncCount ?? 0) : null;
        return new QemuMigrationResult(outcome, reason, stats, sourceRunning, null);
    }

    /// <summary>
    /// QEMU resumes the source itself when a migration fails or is cancelled, a moment after it
    /// publishes the final status; give it that moment. Ferry never sends <c>cont</c> here: a source
    /// that does not run may already have handed the guest over, and must never run twice.
    /// </summary>
    private async Task<bool?> SourceRunsAsync(QemuMigrationRequest request)
    {
        try
        {
            using var budget = Budget(TimeSpan.FromSeconds(2));
            while (true)
            {
                var status = await request.Source.QueryStatusAsync(budget.Token);
                if (status.Running || budget.IsCancellationRequested)
                {
                    return status.Running;
                }

                await Task.Delay(request.Settings.PollInterval, timeProvider, budget.Token);
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (QmpException ex)
        {
            Log.SourceUnknown(logger, ex.Message);
            return null;
        }
    }

    /// <summary>migrate_cancel, then waits for QEMU to settle in a final state; null when QEMU could not be asked.</summary>
    private async Task<MigrationInfo?> CancelOnSourceAsync(QemuMigrationRequest request)
    {
        MigrationInfo? final = null;
        try
        {
            using var budget = Budget(RecoveryBudget);
            await request.Source.MigrateCancelAsync(budget.Token);
            while (true)
            {
                final = await request.Source.QueryMigrateAsync(budget.Token);
                if (final.State.IsFinal() || final.State == QmpMigrationStatus.None)
                {
                    return final;
                }

                await Task.Delay(request.Settings.PollInterval, timeProvider, budget.Token);
            }
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException)
        {
            Log.CancelFailed(logger, ex.Message);
            return final;
        }
    }

    private async Task WaitForEventOrPollAsync(QmpEventSubscription events, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var poll = Task.Delay(pollInterval, timeProvider, wake.Token);
        var @event = events.Reader.WaitToReadAsync(wake.Token).AsTask();
        await Task.WhenAny(poll, @event);
        await wake.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();

        // A completed event channel means the connection died; the next query-migrate reports why.
        try
        {
            await @event;
        }
        catch (Exception ex) when (ex is OperationCanceledException or QmpException)
        {
        }

        try
        {
            await poll;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private CancellationTokenSource Budget(TimeSpan limit) => new(limit, timeProvider);

    private static List<MigrationCapability> Capabilities(MigrationSettings settings, bool source)
    {
        // Every capability either transport ever sets is set here, on or off: a guest that arrived by the
        // native transport keeps x-ignore-shared from then on, and a source that still had it would send
        // no RAM to a target that expects it ("Capability x-ignore-shared is off, but received capability is on").
        var capabilities = new List<MigrationCapability>
        {
            new(MigrationCapability.Events, true),
            new(MigrationCapability.Multifd, settings.ParallelStreams > 1),
            new(MigrationCapability.IgnoreShared, false),
        };
        if (source)
        {
            capabilities.Add(new MigrationCapability(MigrationCapability.AutoConverge, settings.AllowAutoConverge));
            capabilities.Add(new MigrationCapability(MigrationCapability.PauseBeforeSwitchover, settings.ConfirmTargetBeforeSwitchover));
        }

        return capabilities;
    }

    private static QemuMigrationStats ToStats(MigrationInfo info, long passes)
    {
        var ram = info.Ram ?? new MigrationRamStats();
        return new QemuMigrationStats(
            info.TotalTimeMs ?? 0,
            info.DowntimeMs ?? 0,
            info.SetupTimeMs ?? 0,
            ram.Transferred,
            ram.Total,
            ram.Duplicate,
            ram.Normal,
            Math.Max(passes, ram.DirtySyncCount),
            ram.DirtyPagesRate,
            ram.Mbps);
    }

    private static string Format(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.QemuMigrationIncomingPrepared, Level = LogLevel.Information, Message = "Target listens on {Uri} ({Security})")]
        public static partial void IncomingPrepared(ILogger logger, string uri, string security);

        [LoggerMessage(EventId = AgentEventIds.QemuMigrationStarting, Level = LogLevel.Information, Message = "Migrating to {Uri}: downtime limit {DowntimeLimitMs} ms, bandwidth {Bandwidth} B/s, {Streams} stream(s), {Security}")]
        public static partial void Starting(ILogger logger, string uri, double downtimeLimitMs, long bandwidth, int streams, string security);


        [LoggerMessage(EventId = AgentEventIds.QemuMigrationCompleted, Level = LogLevel.Information, Message = "Migration completed: total {TotalMs} ms, downtime {DowntimeMs} ms, setup {SetupMs} ms, {Bytes} bytes, {Passes} passes")]
        public static partial void Completed(ILogger logger, long totalMs, long downtimeMs, long setupMs, long bytes, long passes);

        [LoggerMessage(EventId = AgentEventIds.QemuMigrationTargetSilent, Level = LogLevel.Warning, Message = "The migration target did not answer: {Reason}")]
        public static partial void TargetSilent(ILogger logger, string reason);

        [LoggerMessage(EventId = AgentEventIds.QemuMigrationTargetConfirmed, Level = LogLevel.Debug, Message = "Target confirmed at the brink of switch-over ({Status}) in {Ms} ms")]
        public static partial void TargetConfirmed(ILogger logger, string status, double ms);

        [LoggerMessage(EventId = AgentEventIds.QemuMigrationCleanedUp, Level = LogLevel.Information, Message = "Deferred source cleanup took {CleanupMs} ms")]
        public static partial void CleanedUp(ILogger logger, double cleanupMs);

        [LoggerMessage(EventId = AgentEventIds.QemuMigrationCleanupFailed, Level = LogLevel.Warning, Message = "Deferred source cleanup failed: {Reason}")]
        public static partial void CleanupFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = AgentEventIds.QemuMigrationAborting, Level = LogLevel.Warning, Message = "Migration {Outcome}: {Reason}")]
        public static partial void Aborting(ILogger logger, MigrationOutcome outcome, string reason);

        [LoggerMessage(EventId = AgentEventIds.QemuMigrationCancelFailed, Level = LogLevel.Warning, Message = "migrate_cancel did not go through: {Reason}")]
        public static partial void CancelFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = AgentEventIds.QemuMigrationTargetTeardownFailed, Level = LogLevel.Error, Message = "Tearing down the target failed: {Reason}")]
        public static partial void TargetTeardownFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = AgentEventIds.QemuMigrationEarlierUnsettled, Level = LogLevel.Warning, Message = "QEMU still runs an earlier migration ({State}); waiting for it to settle before this one starts")]
        public static partial void EarlierMigrationUnsettled(ILogger logger, QmpMigrationStatus state);

        [LoggerMessage(EventId = AgentEventIds.QemuMigrationSourceNotRunning, Level = LogLevel.Error, Message = "The source does not run after the failed migration; it is left as it is for an operator")]
        public static partial void SourceNotRunning(ILogger logger);

        [LoggerMessage(EventId = AgentEventIds.QemuMigrationSourceUnknown, Level = LogLevel.Error, Message = "Cannot tell whether the source still runs: {Reason}")]
        public static partial void SourceUnknown(ILogger logger, string reason);
    }
}
