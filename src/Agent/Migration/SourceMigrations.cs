using Ferry.Agent.ControlPlane;
using Ferry.Agent.Grpc;
using Ferry.Agent.Guests;
using Ferry.Agent.Migration.Native;
using Ferry.Agent.Probe;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Contracts;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Migration;

/// <summary>
/// Runs outgoing migrations with QEMU's own loop towards a target agent, and turns what QEMU does
/// into the progress stream of the contract: RUNNING samples, SWITCHING_OVER when the source
/// pauses, CLEANING_UP once the target runs, then exactly one terminal message, which is in the
/// result outbox before any reader sees it.
/// </summary>
internal sealed partial class SourceMigrations(
    IMigrationLedger ledger,
    IGuestRegistry guests,
    IQemuMigration qemuMigration,
    INativeQemuMigration nativeMigration,
    INativeTrackerProbe trackers,
    INetworkProbes probes,
    IAgentChannels agents,
    IResultOutbox outbox,
    IProgressForwarder progress,
    IOptions<AgentOptions> options,
    TimeProvider timeProvider,
    ILogger<SourceMigrations> logger) : ISourceMigrations, IAsyncDisposable
{
    /// <summary>Bounds the QMP questions asked to settle where the guest is after a failure.</summary>
    private static readonly TimeSpan QuestionBudget = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _starting = new(1, 1);

    public async Task<OutgoingMigration> StartOrAttachAsync(OutgoingMigrationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _starting.WaitAsync(cancellationToken);
        try
        {
            if (ledger.FindOutgoing(request.MigrationId) is { } known)
            {
                return string.Equals(known.Guest, request.Guest, StringComparison.Ordinal)
                    ? known
                    : throw new RpcException(new Status(StatusCode.InvalidArgument, $"Migration {request.MigrationId} moves guest '{known.Guest}', not '{request.Guest}'."));
            }

            if (ledger.FindActiveOutgoing(request.Guest) is { } other)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Guest '{request.Guest}' is already being migrated by {other.Id}."));
            }

            var source = guests.Find(request.Guest)
                ?? throw new RpcException(new Status(StatusCode.NotFound, $"Guest '{request.Guest}' does not run on this host."));
            var state = await AskAsync(source.Qmp.QueryStatusAsync, cancellationToken);
            if (state is not { Running: true })
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Guest '{request.Guest}' is '{state?.Status ?? "unknown"}', not running; only a running guest is migrated."));
            }

            if (request.Transport.Transport != Transport.Qemu)
            {
                // Whether a tracker covers this guest is known only here, where its processes run.
                var engineMissing = request.PageStream is null || request.PageStreamToken is null
                    ? "the target prepared no page-transfer engine for this migration (no page_stream_port and page_stream_token in the Migrate request)"
                    : null;
                request = request with { Transport = TransportChoice.ForGuest(request.Transport.Transport, trackers.ForGuest(source), engineMissing) };
            }

            var migration = new OutgoingMigration(request, progress.Forward) { Probe = await StartProbeAsync(request, source, cancellationToken) };
            ledger.TryAddOutgoing(migration);

            // Not the caller's token: the migration must go on when the API's stream breaks.
            migration.Completion = Task.Run(() => RunAsync(migration, source), CancellationToken.None);
            return migration;
        }
        finally
        {
            _starting.Release();
        }
    }

    public async Task<bool> CancelAsync(string migrationId, CancellationToken cancellationToken)
    {
        if (ledger.FindOutgoing(migrationId) is not { } migration || !migration.TryCancel())
        {
            return false;
        }

        Log.CancelRequested(logger, migrationId);
        try
        {
            await migration.Completion.WaitAsync(options.Value.CancelSettleTimeout, timeProvider, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // Still settling (or the caller stopped waiting): the cancel was accepted before
            // switch-over, which is what the caller asked; the stream and the result tell the end.
            return true;
        }

        // The cancel can lose the race against a switch-over QEMU had already begun.
        return migration.End?.Phase == MigrationPhase.Cancelled;
    }

    public async Task<TimeSpan> CleanupAsync(string migrationId, string? guest, CancellationToken cancellationToken)
    {
        var migration = ledger.FindOutgoing(migrationId);
        if (migration is { IsOver: false })
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Migration {migrationId} is still running; cancel it first."));
        }

        var name = migration?.Guest ?? guest;
        if (string.IsNullOrEmpty(name) || guests.Find(name) is not { } source)
        {
            return TimeSpan.Zero;
        }

        var started = timeProvider.GetTimestamp();
        var state = await AskAsync(source.Qmp.QueryStatusAsync, cancellationToken);
        var handedOver = migration?.End?.GuestOnTarget == true || migration?.End?.Phase == MigrationPhase.Completed || state?.Status == "postmigrate";
        if (!handedOver)
        {
            // The source is the guest until a migration handed it over; removing it would lose the VM.
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Guest '{name}' is '{state?.Status ?? "unknown"}' here and was not handed over; not removing it."));
        }

        await guests.RemoveAsync(name, source, graceful: true, cancellationToken);
        Log.SourceCleanedUp(logger, migrationId, name);
        return timeProvider.GetElapsedTime(started);
    }

    public async ValueTask DisposeAsync()
    {
        // Agent shutdown: stop what still runs before the launcher kills the QEMUs under it.
        var running = ledger.Outgoing.Where(m => !m.IsOver).ToList();
        foreach (var migration in running)
        {
            migration.TryCancel();
        }

        try
        {
            await Task.WhenAll(running.Select(m => m.Completion)).WaitAsync(TimeSpan.FromSeconds(30), timeProvider);
        }
        catch (TimeoutException)
        {
        }

        _starting.Dispose();
    }

    /// <summary>
    /// The probe the policy asked for, streaming before the migration starts; a host that cannot run it
    /// refuses the migration, which then never started: the guest stays here, nothing is lost.
    /// </summary>
    private async Task<ProbeRun?> StartProbeAsync(OutgoingMigrationRequest request, QemuProcess source, CancellationToken cancellationToken)
    {
        if (request.ProbeRatePps <= 0)
        {
            return null;
        }

        try
        {
            return await probes.StartAsync(request.MigrationId, request.Guest, source.Spec.VhostUserPorts ?? [], request.ProbeRatePps, cancellationToken);
        }
        catch (ProbeUnavailableException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
    }

    private async Task RunAsync(OutgoingMigration migration, QemuProcess source)
    {
        try
        {
            if (migration.Probe is { } probe)
            {
                await WarmUpAsync(probe, migration);
            }

            await MigrateAsync(migration, source);
        }
        finally
        {
            if (migration.Probe is { } probe)
            {
                await probe.DisposeAsync();
            }
        }
    }

    /// <summary>Lets the stream come through the guest before the migration starts; a cancel meanwhile is the migration's to report.</summary>
    private static async Task WarmUpAsync(ProbeRun probe, OutgoingMigration migration)
    {
        try
        {
            await probe.WarmUpAsync(migration.CancellationToken);
        }
        catch (OperationCanceledException) when (migration.CancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task MigrateAsync(OutgoingMigration migration, QemuProcess source)
    {
        var request = migration.Request;
        var sawCompleted = false;
        MigrationProgress end;
        Log.Starting(logger, migration.Id, request.Guest, request.Destination.Value, request.TargetAgent.ToString());
        try
        {
            if (request.Transport.Transport == Transport.Native)
            {
                end = await nativeMigration.MigrateAsync(
                    migration,
                    source,
                    new RemoteMigrationTarget(agents.For(request.TargetAgent), migration.Id, request.Guest, options.Value.CallTimeout),
                    ct => guests.RemoveAsync(request.Guest, source, graceful: true, ct));
            }
            else
            {
                QemuMigrationResult result;
                using (var events = source.Qmp.SubscribeEvents())
                {
                    var watcher = WatchSwitchoverAsync(events, migration);
                    var target = new RemoteMigrationTarget(agents.For(request.TargetAgent), migration.Id, request.Guest, options.Value.CallTimeout);
                    var samples = new SampleSink(migration, () => sawCompleted = true);
                    result = await qemuMigration.MigrateAsync(
                        new QemuMigrationRequest(
                            source.Qmp,
                            request.Destination,
                            target,
                            request.Settings,
                            DeferredSourceCleanup: async ct =>
                            {
                                migration.MarkCleaningUp();
                                await guests.RemoveAsync(request.Guest, source, graceful: true, ct);
                            },
                            Progress: samples),
                        migration.CancellationToken);
                    events.Dispose();
                    await watcher;
                }

                end = await ToEndAsync(migration, source, result, sawCompleted);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A bug, not an expected failure; still, the API must learn where the guest is.
            Log.Crashed(logger, ex, migration.Id);
            end = new MigrationProgress
            {
                Phase = MigrationPhase.Failed,
                FailureReason = $"The agent failed while migrating: {ex.GetType().Name}: {ex.Message}",
                GuestOnTarget = sawCompleted || (request.Transport.Transport == Transport.Native
                    ? await TargetRunsAsync(request, migration.Id)
                    : await SourceHandedOverAsync(source)),
            };
        }

        if (migration.Probe is { } probe)
        {
            // Measured and gone before anyone learns the end: the result carries the figure, the switch no probe.
            await AddProbeOutcomeAsync(probe, end, migration.Id);
            await probe.DisposeAsync();
        }

        end = migration.Seal(end);
        try
        {
            await outbox.StoreAsync(end, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.OutboxFailed(logger, ex, migration.Id);
        }

        migration.Finish(end);
        Log.Ended(logger, migration.Id, end.Phase, end.Stats?.TotalTimeMs ?? 0, end.Stats?.DowntimeMs ?? 0, end.FailureReason);
    }

    /// <summary>
    /// Ends the probe after the source's cleanup (waiting for the stream to resume at the target) and adds what
    /// it measured to the result. A probe that breaks costs the measurement, never the migration's outcome.
    /// </summary>
    private async Task AddProbeOutcomeAsync(ProbeRun probe, MigrationProgress end, string migrationId)
    {
        ProbeOutcome outcome;
        try
        {
            outcome = await probe.FinishAsync(guestMoved: end.GuestOnTarget, CancellationToken.None);
        }
        catch (IOException ex)
        {
            Log.ProbeFailed(logger, ex, migrationId);
            if (end.Stats is { } failed)
            {
                failed.ProbeNote = $"the probe failed: {ex.Message}";
            }

            return;
        }

        if (end.Stats is not { } stats)
        {
            return;
        }

        stats.FramesSent = outcome.FramesSent;
        stats.FramesLost = outcome.FramesLost;
        stats.PacketRatePps = outcome.PacketRatePps;
        if (outcome.NetworkDowntime is { } downtime)
        {
            stats.NetworkDowntimeMs = downtime.TotalMilliseconds;
        }

        if (outcome.Note is { } note)
        {
            stats.ProbeNote = note;
        }

        if (outcome.AnnouncedAfterPause is { } announced)
        {
            stats.AnnounceMs = announced.TotalMilliseconds;
        }
    }

    private async Task<MigrationProgress> ToEndAsync(OutgoingMigration migration, QemuProcess source, QemuMigrationResult result, bool sawCompleted)
    {
        var request = migration.Request;
        var end = new MigrationProgress();
        if (result.Stats is { } stats)
        {
            end.Pass = stats.Passes;
            end.TransferredBytes = stats.TransferredBytes;
            end.TotalBytes = stats.TotalBytes;
            end.DirtyPagesPerSecond = stats.DirtyPagesRate;
            end.ThroughputMbps = stats.ThroughputMbps;
        }

        switch (result.Outcome)
        {
            case MigrationOutcome.Completed:
                end.Phase = MigrationPhase.Completed;
                end.Stats = ToStats(result.Stats, result.CleanupTime, request.Transport);
                end.GuestOnTarget = true;
                break;
            case MigrationOutcome.Cancelled:
                end.Phase = MigrationPhase.Cancelled;
                end.FailureReason = result.Reason ?? "Cancelled.";
                break;
            default:
                end.Phase = MigrationPhase.Failed;
                end.FailureReason = result.Reason ?? "Failed.";

                // After switch-over the guest lives at the target whatever went wrong later; QEMU knows.
                end.GuestOnTarget = sawCompleted || await SourceHandedOverAsync(source);
                if (end.GuestOnTarget && result.Stats is not null)
                {
                    end.Stats = ToStats(result.Stats, result.CleanupTime, request.Transport);
                }

                break;
        }

        return end;
    }

    private static MigrationStats ToStats(QemuMigrationStats? stats, TimeSpan? cleanup, TransportChoice transport)
    {
        var result = new MigrationStats
        {
            Transport = transport.Transport,
            TransportReason = transport.Reason,
            CleanupTimeMs = cleanup?.TotalMilliseconds ?? 0,
        };
        if (stats is not null)
        {
            result.TotalTimeMs = stats.TotalTimeMs;
            result.DowntimeMs = stats.DowntimeMs;
            result.SetupTimeMs = stats.SetupTimeMs;
            result.BytesTransferred = stats.TransferredBytes;
            result.ZeroPages = stats.ZeroPages;
            result.NormalPages = stats.NormalPages;
            result.Passes = (int)Math.Min(int.MaxValue, stats.Passes);
            result.DirtyPagesPerSecond = stats.DirtyPagesRate;
            result.ThroughputMbps = stats.ThroughputMbps;
        }

        return result;
    }

    /// <summary>
    /// QEMU pauses the source for the final stop-and-copy and says so with a STOP event; a
    /// <c>device</c> MIGRATION status means the same. When the target is confirmed first, QEMU pauses
    /// in <c>pre-switchover</c> and may still resume the source: switch-over starts only with
    /// <c>device</c>, after Ferry let it continue. The watcher ends when the subscription is disposed
    /// or the connection closes.
    /// </summary>
    private static async Task WatchSwitchoverAsync(QmpEventSubscription events, OutgoingMigration migration)
    {
        var confirmFirst = migration.Request.Settings.ConfirmTargetBeforeSwitchover;
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync())
            {
                var state = e.Name == QmpEvent.Migration && e.Data.TryGetProperty("status"u8, out var status) ? MigrationStates.Parse(status.GetString()) : (MigrationState?)null;
                var pausing = state is MigrationState.Device or MigrationState.Completed
                    || (!confirmFirst && (e.Name == QmpEvent.Stop || state == MigrationState.PreSwitchover));
                if (pausing)
                {
                    migration.MarkSwitchingOver();
                }
            }
        }
        catch (QmpException)
        {
            // The connection ended; the migration loop reports what that means.
        }
    }

    /// <summary>
    /// For the native transport the source QEMU's own migration completes at every pause (its device
    /// state went out), so only the target can say whether it took the guest over.
    /// </summary>
    private async Task<bool> TargetRunsAsync(OutgoingMigrationRequest request, string migrationId)
    {
        try
        {
            using var budget = new CancellationTokenSource(QuestionBudget, timeProvider);
            var target = new RemoteMigrationTarget(agents.For(request.TargetAgent), migrationId, request.Guest, options.Value.CallTimeout);
            return (await target.QueryStatusAsync(budget.Token)).Running;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>True when QEMU says its migration completed (the guest was handed over), false when not or unknown.</summary>
    private async Task<bool> SourceHandedOverAsync(QemuProcess source)
    {
        if (source.HasExited)
        {
            return false;
        }

        var info = await AskAsync(ct => source.Qmp.QueryMigrateAsync(ct), CancellationToken.None);
        return info?.State == MigrationState.Completed;
    }

    private async Task<T?> AskAsync<T>(Func<CancellationToken, Task<T>> question, CancellationToken cancellationToken)
        where T : class
    {
        using var timeout = new CancellationTokenSource(QuestionBudget, timeProvider);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await question(budget.Token);
        }
        catch (QmpException)
        {
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Publishes QEMU's samples inline, in the order the migration loop produces them.</summary>
    private sealed class SampleSink(OutgoingMigration migration, Action completed) : IProgress<QemuMigrationProgress>
    {
        public void Report(QemuMigrationProgress value)
        {
            if (value.State == MigrationState.Completed)
            {
                // QEMU finished the stop-and-copy: the guest was paused, whether or not STOP was seen yet.
                completed();
                migration.MarkSwitchingOver();
            }

            migration.PublishSample(value);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3420, Level = LogLevel.Information, Message = "Migration {MigrationId}: moving guest {Guest} to {Destination} (target agent {TargetAgent})")]
        public static partial void Starting(ILogger logger, string migrationId, string guest, string destination, string targetAgent);

        [LoggerMessage(EventId = 3421, Level = LogLevel.Information, Message = "Migration {MigrationId} ended {Phase}: total {TotalMs} ms, downtime {DowntimeMs} ms; {Reason}")]
        public static partial void Ended(ILogger logger, string migrationId, MigrationPhase phase, double totalMs, double downtimeMs, string? reason);

        [LoggerMessage(EventId = 3422, Level = LogLevel.Information, Message = "Migration {MigrationId}: cancel requested")]
        public static partial void CancelRequested(ILogger logger, string migrationId);

        [LoggerMessage(EventId = 3423, Level = LogLevel.Information, Message = "Migration {MigrationId}: source guest {Guest} removed")]
        public static partial void SourceCleanedUp(ILogger logger, string migrationId, string guest);

        [LoggerMessage(EventId = 3424, Level = LogLevel.Error, Message = "Migration {MigrationId}: the agent failed while migrating")]
        public static partial void Crashed(ILogger logger, Exception exception, string migrationId);

        [LoggerMessage(EventId = 3426, Level = LogLevel.Warning, Message = "Migration {MigrationId}: the network probe failed; the result has no network measurement")]
        public static partial void ProbeFailed(ILogger logger, Exception exception, string migrationId);

        [LoggerMessage(EventId = 3425, Level = LogLevel.Critical, Message = "Migration {MigrationId}: the result could not be written to the outbox; only the Migrate stream carries it")]
        public static partial void OutboxFailed(ILogger logger, Exception exception, string migrationId);
    }
}
