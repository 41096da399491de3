using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Contracts;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Migration;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Migration.Native;

/// <summary>
/// The native transport for QEMU guests. Live: the engine copies the RAM file while QEMU runs and
/// soft-dirty reports what QEMU and the vhost-user backend wrote; at switch-over the guest is
/// paused, QEMU's device state is captured once (x-ignore-shared: no RAM in it), the final dirty
/// pages and the device state cross together, the target loads the state and resumes, and only then
/// is the source removed. Paused copy (no tracker): the guest is paused before the first page is
/// read, so no write can be missed, and the downtime reported starts at that pause.
/// </summary>
internal sealed partial class NativeQemuMigration(
    INativeTrackerProbe trackers,
    TimeProvider timeProvider,
    ILogger<NativeQemuMigration> logger) : INativeQemuMigration
{
    private static readonly TimeSpan RecoveryBudget = TimeSpan.FromSeconds(10);

    public async Task<MigrationProgress> MigrateAsync(OutgoingMigration migration, QemuProcess source, IMigrationTarget target, Func<CancellationToken, Task> deferredSourceCleanup)
    {
        ArgumentNullException.ThrowIfNull(migration);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(deferredSourceCleanup);
        var request = migration.Request;
        var choice = request.Transport;
        var started = timeProvider.GetTimestamp();
        if (request.PageStream is not { } destination || request.PageStreamToken is not { } token)
        {
            return await FailBeforeStartAsync(target, source, "the native transport needs the target's page_stream_port and page_stream_token in the Migrate request (from PrepareIncomingReply); none were given");
        }

        GuestMemory memory;
        try
        {
            memory = GuestMemory.Open(source.Layout.RamFile, NativePaging.PageSize(source.Spec.Backing));
        }
        catch (IOException ex)
        {
            return await FailBeforeStartAsync(target, source, $"the guest's RAM file cannot be mapped: {ex.Message}");
        }

        using (memory)
        {
            IDirtyTracker tracker;
            if (choice.PausedCopy)
            {
                tracker = new PausedGuestTracker();
            }
            else
            {
                var verdict = trackers.ForGuest(source);
                try
                {
                    tracker = verdict.Available
                        ? SoftDirtyTracker.Open(verdict.Processes, memory)
                        : throw new IOException(verdict.Reason);
                }
                catch (Exception ex) when (ex is IOException or ArgumentException or NotSupportedException)
                {
                    return await FailBeforeStartAsync(target, source, $"no dirty tracker for the live passes: {ex.Message}");
                }
            }

            var settings = request.Settings;
            var options = new MigrationOptions
            {
                Streams = settings.ParallelStreams,
                DowntimeBudget = settings.DowntimeLimit,
                CompletionTimeout = settings.CompletionTimeout,
                ProgressTimeout = settings.ProgressTimeout,
                Bandwidth = new BandwidthLimiter(settings.MaxBandwidthBytesPerSecond >= QemuMigrationSettings.Unlimited ? 0 : settings.MaxBandwidthBytesPerSecond),
                FreeSourceRam = true,
            };
            var control = new QemuGuestControl(
                source.Qmp,
                alreadyPaused: choice.PausedCopy,
                paused: migration.MarkSwitchingOver,
                stopSource: async ct =>
                {
                    migration.MarkCleaningUp();
                    await deferredSourceCleanup(ct);
                },
                timeProvider);
            var engine = new SourceMigration(memory, tracker, control, PageStreamCredentials.For(migration.Id, token), options, timeProvider);
            var sent = 0L;
            engine.PassCompleted += pass =>
            {
                sent += pass.Bytes;
                migration.PublishSample(new QemuMigrationProgress(
                    MigrationState.Active, pass.Pass + 1, sent, 0, memory.Size, 0, pass.Duration > TimeSpan.Zero ? pass.Bytes * 8 / pass.Duration.TotalSeconds / 1e6 : 0));
            };

            // QEMU is set up for the device-state-only stream now, outside the downtime. A paused copy then
            // pauses before the first page is read; the engine's own pause only captures the device state.
            var pausedAt = 0L;
            try
            {
                await QemuDeviceState.ConfigureAsync(source.Qmp, migration.CancellationToken);
                if (choice.PausedCopy)
                {
                    pausedAt = timeProvider.GetTimestamp();
                    await source.Qmp.StopAsync(migration.CancellationToken);
                }
            }
            catch (Exception ex) when (ex is IOException or QmpException or OperationCanceledException)
            {
                tracker.Dispose();
                var stopped = ex is OperationCanceledException;
                return await FailBeforeStartAsync(target, source, stopped ? "cancelled" : $"preparing the source QEMU failed: {ex.Message}", stopped);
            }

            var engineStarted = timeProvider.GetTimestamp();
            Log.Starting(logger, migration.Id, request.Guest, destination.ToString(), choice.Reason);
            MigrationResult result;
            try
            {
                result = await engine.RunAsync(destination, migration.CancellationToken);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The engine let an exception through and skipped its own recovery.
                tracker.Dispose();
                return await RecoverAsync(migration, control, target, source, ex);
            }

            var total = timeProvider.GetElapsedTime(started, engineStarted) + result.TotalTime;

            // A paused copy's downtime is everything from its pause: the whole engine run until the target ran.
            var downtime = choice.PausedCopy ? timeProvider.GetElapsedTime(pausedAt, engineStarted) + result.TotalTime : result.Downtime;
            var stats = ToStats(result, choice, memory.PageSize, total, downtime);
            var end = new MigrationProgress
            {
                Pass = result.Passes,
                TransferredBytes = result.BytesSent,
                TotalBytes = memory.Size,
                DirtyPagesPerSecond = stats.DirtyPagesPerSecond,
                ThroughputMbps = stats.ThroughputMbps,
            };

            if (result.Succeeded)
            {
                end.Phase = MigrationPhase.Completed;
                end.Stats = stats;
                end.GuestOnTarget = true;
                Log.Completed(logger, migration.Id, stats.TotalTimeMs, stats.DowntimeMs, stats.CleanupTimeMs, result.Switchover?.ToString());
                return end;
            }

            if (!result.SourceRunning)
            {
                // Every page and the device state reached the target: the guest is there, whatever failed after.
                end.Phase = MigrationPhase.Failed;
                end.FailureReason = $"native: {result.FailureReason}";
                end.GuestOnTarget = true;
                end.Stats = stats;
                return end;
            }

            var cancelled = migration.CancellationToken.IsCancellationRequested;
            return await FailBeforeStartAsync(target, source, cancelled ? "cancelled" : result.FailureReason ?? "the engine failed", cancelled, end);
        }
    }

    /// <summary>
    /// Before the engine paused for switch-over nothing can have reached the target for good: the source
    /// is resumed. After that pause the target may hold the guest; the source is never resumed then, and
    /// only the target can say whether it runs the guest.
    /// </summary>
    private async Task<MigrationProgress> RecoverAsync(OutgoingMigration migration, QemuGuestControl control, IMigrationTarget target, QemuProcess source, Exception ex)
    {
        var what = $"the engine failed: {ex.GetType().Name}: {ex.Message}";
        Log.EngineFailed(logger, ex, migration.Id);
        if (!control.SwitchingOver)
        {
            var cancelled = migration.CancellationToken.IsCancellationRequested;
            return await FailBeforeStartAsync(target, source, cancelled ? "cancelled" : what, cancelled);
        }

        var onTarget = false;
        try
        {
            using var budget = new CancellationTokenSource(RecoveryBudget, timeProvider);
            onTarget = (await target.QueryStatusAsync(budget.Token)).Running;
        }
        catch (Exception query) when (query is QmpException or OperationCanceledException or IOException)
        {
            Log.TargetUnknown(logger, query.Message);
        }

        return new MigrationProgress
        {
            Phase = MigrationPhase.Failed,
            FailureReason = $"native: {what}, after the guest was paused for switch-over; " + (onTarget ? "it runs at the target" : "the source stays paused for an operator"),
            GuestOnTarget = onTarget,
        };
    }

    /// <summary>Before switch-over the source is the truth: make sure it runs, remove the target, say why.</summary>
    private async Task<MigrationProgress> FailBeforeStartAsync(IMigrationTarget target, QemuProcess source, string reason, bool cancelled = false, MigrationProgress? end = null)
    {
        end ??= new MigrationProgress();
        end.Phase = cancelled ? MigrationPhase.Cancelled : MigrationPhase.Failed;
        end.FailureReason = cancelled ? "Cancelled on request." : $"native: {reason}";
        end.GuestOnTarget = false;
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
            await target.TearDownAsync(budget.Token);
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException or IOException)
        {
            Log.TargetTeardownFailed(logger, ex.Message);
        }

        Log.Failed(logger, end.FailureReason);
        return end;
    }

    private static MigrationStats ToStats(MigrationResult result, TransportChoice choice, int pageSize, TimeSpan total, TimeSpan downtime) => new()
    {
        Transport = Transport.Native,
        TransportReason = choice.Reason,
        TotalTimeMs = total.TotalMilliseconds,
        DowntimeMs = downtime.TotalMilliseconds,
        SetupTimeMs = result.SetupTime.TotalMilliseconds,
        BytesTransferred = result.BytesSent,
        ZeroPages = result.ZeroPages,
        NormalPages = result.PagesSent,
        Passes = result.Passes,
        DirtyPagesPerSecond = result.DirtyRate / pageSize,
        ThroughputMbps = result.Bandwidth * 8 / 1e6,
        CleanupTimeMs = result.CleanupTime.TotalMilliseconds,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 3470, Level = LogLevel.Information, Message = "Migration {MigrationId}: the engine moves guest {Guest} to {Destination} ({Reason})")]
        public static partial void Starting(ILogger logger, string migrationId, string guest, string destination, string reason);

        [LoggerMessage(EventId = 3471, Level = LogLevel.Information, Message = "Migration {MigrationId} completed natively: total {TotalMs} ms, downtime {DowntimeMs} ms, cleanup {CleanupMs} ms; switch-over {Switchover}")]
        public static partial void Completed(ILogger logger, string migrationId, double totalMs, double downtimeMs, double cleanupMs, string? switchover);

        [LoggerMessage(EventId = 3472, Level = LogLevel.Warning, Message = "Native migration failed before switch-over: {Reason}")]
        public static partial void Failed(ILogger logger, string? reason);

        [LoggerMessage(EventId = 3473, Level = LogLevel.Error, Message = "The source guest could not be resumed after the failed native migration: {Reason}")]
        public static partial void SourceNotResumed(ILogger logger, string reason);

        [LoggerMessage(EventId = 3475, Level = LogLevel.Error, Message = "Migration {MigrationId}: the page-transfer engine failed unexpectedly")]
        public static partial void EngineFailed(ILogger logger, Exception exception, string migrationId);

        [LoggerMessage(EventId = 3476, Level = LogLevel.Error, Message = "Cannot tell whether the target runs the guest: {Reason}")]
        public static partial void TargetUnknown(ILogger logger, string reason);

        [LoggerMessage(EventId = 3474, Level = LogLevel.Error, Message = "Tearing down the native target failed: {Reason}")]
        public static partial void TargetTeardownFailed(ILogger logger, string reason);
    }
}
