using Ferry.Agent.ControlPlane;
using Ferry.Agent.Grpc;
using Ferry.Agent.Guests;
using Ferry.Agent.Migration.Transports;
using Ferry.Agent.Migration.Transports.Native;
using Ferry.Agent.Probe;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.Testing;
using Ferry.Contracts;
using TransportKind = Ferry.Domain.Migrations.TransportKind;
using MigrationOutcome = Ferry.Agent.Migration.MigrationOutcome;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Migration;

/// <summary>
/// The source side of migrations on this host (<see cref="OutgoingMigration"/>s; the engine's own source loop is
/// <c>Ferry.Transfer.Migration.SourceMigration</c>). Starting one, it refuses a guest that is not running here or
/// already moving, settles the transport for this guest (native only where a dirty tracker covers every writer of
/// its RAM and the target prepared the engine), starts the network probe the policy asked for, and runs the
/// transport in the background, every transport called the same way (<see cref="IMigrationTransport"/>). The
/// phases of the contract's progress stream (RUNNING samples, SWITCHING_OVER, CLEANING_UP) are published by the
/// <see cref="OutgoingMigration"/> the transport reports to; here the end gets the probe's measurement and the
/// target's arrival timings, and is stored in the result outbox before any reader sees it. Cancel settles the
/// migration before switch-over; cleanup quits the source guest only once it was handed over.
/// </summary>
internal sealed partial class OutgoingMigrations(
    IMigrationLedger ledger,
    IGuestRegistry guests,
    IEnumerable<IMigrationTransport> transports,
    IQemuGuestTracking trackers,
    INetworkProbes probes,
    IAgentChannels agents,
    IResultOutbox outbox,
    IProgressForwarder progress,
    IFaultHold hold,
    IOptions<AgentOptions> options,
    TimeProvider timeProvider,
    ILogger<OutgoingMigrations> logger) : IOutgoingMigrations, IAsyncDisposable
{
    /// <summary>Bounds the QMP questions asked to settle where the guest is after a failure.</summary>
    private static readonly TimeSpan QuestionBudget = TimeSpan.FromSeconds(5);

    /// <summary>How long the target may take to have OVS poll the arrived guest's ports before the parts go without it.</summary>
    private static readonly TimeSpan ArrivalWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The same wait when no probe ran. A guest whose virtio driver never enabled its queues (the page counter with
    /// NICs, `make run`'s idle demo) is never polled, and the full wait held every such migration in cleaningUp for
    /// 5.5 s (seen in `make run`); a driver that had its queues enabled has them re-enabled at resume, within
    /// milliseconds. With a probe the stream has already resumed at the target by now, so its ports are up.
    /// </summary>
    private static readonly TimeSpan ArrivalWaitWithoutTraffic = TimeSpan.FromMilliseconds(500);

    private readonly SemaphoreSlim _starting = new(1, 1);
    private readonly Dictionary<TransportKind, IMigrationTransport> _transports = transports.ToDictionary(t => t.Kind);

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
                    : throw new ArgumentException($"Migration {request.MigrationId} moves guest '{known.Guest}', not '{request.Guest}'.", nameof(request));
            }

            if (ledger.FindActiveOutgoing(request.Guest) is { } other)
            {
                throw new RequestRefusedException(Refusal.FailedPrecondition, $"Guest '{request.Guest}' is already being migrated by {other.Id}.");
            }

            var source = guests.Find(request.Guest)
                ?? throw new RequestRefusedException(Refusal.NotFound, $"Guest '{request.Guest}' does not run on this host.");
            var state = await AskAsync(source.Qmp.QueryStatusAsync, cancellationToken);
            if (state is not { Running: true })
            {
                throw new RequestRefusedException(Refusal.FailedPrecondition, $"Guest '{request.Guest}' is '{state?.Status ?? "unknown"}', not running; only a running guest is migrated.");
            }

            if (request.Transport.Kind != TransportKind.Qemu)
            {
                // Whether a tracker covers this guest is known only here, where its processes run.
                var engineMissing = request.PageStream is null || request.PageStreamToken is null
                    ? "the target prepared no page-transfer engine for this migration (no page_stream_port and page_stream_token in the Migrate request)"
                    : null;
                request = request with { Transport = TransportChoice.ForGuest(request.Transport.Kind, trackers.ForGuest(source), engineMissing) };
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

    public async Task<CancelReply.Types.Outcome> CancelAsync(string migrationId, CancellationToken cancellationToken)
    {
        if (ledger.FindOutgoing(migrationId) is not { } migration)
        {
            return CancelReply.Types.Outcome.Unknown;
        }

        if (!migration.TryCancel())
        {
            // Refused: either the end is decided (Migrate replays it), or the guest is paused for switch-over and
            // only the target can take it from here: the API must not tear the target down.
            return migration.IsOver ? CancelReply.Types.Outcome.AlreadyEnded : CancelReply.Types.Outcome.TooLate;
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
            return CancelReply.Types.Outcome.Cancelled;
        }

        // The cancel can lose the race against a switch-over QEMU had already begun, or against the migration's own end.
        return migration.End switch
        {
            { Phase: MigrationPhase.Cancelled } => CancelReply.Types.Outcome.Cancelled,
            { GuestOnTarget: true } => CancelReply.Types.Outcome.TooLate,
            _ => CancelReply.Types.Outcome.AlreadyEnded,
        };
    }

    public async Task<TimeSpan> CleanupAsync(string migrationId, string? guest, CancellationToken cancellationToken)
    {
        var migration = ledger.FindOutgoing(migrationId);
        if (migration is { IsOver: false })
        {
            throw new RequestRefusedException(Refusal.FailedPrecondition, $"Migration {migrationId} is still running; cancel it first.");
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
            throw new RequestRefusedException(Refusal.FailedPrecondition, $"Guest '{name}' is '{state?.Status ?? "unknown"}' here and was not handed over; not removing it.");
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
            throw new RequestRefusedException(Refusal.FailedPrecondition, ex.Message, ex);
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
                await DisposeProbeAsync(probe, migration.Id);
            }
        }
    }

    /// <summary>A probe's teardown is best effort: it never keeps a migration from ending.</summary>
    private async Task DisposeProbeAsync(ProbeRun probe, string migrationId)
    {
        try
        {
            await probe.DisposeAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ProbeFailed(logger, ex, migrationId);
        }
    }

    /// <summary>Lets the stream come through the guest before the migration starts; a cancel meanwhile is the migration's to report.</summary>
    private async Task WarmUpAsync(ProbeRun probe, OutgoingMigration migration)
    {
        try
        {
            await probe.WarmUpAsync(migration.CancellationToken);
        }
        catch (OperationCanceledException) when (migration.CancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The migration starts anyway: the probe measures it, it does not gate it.
            Log.ProbeFailed(logger, ex, migration.Id);
        }
    }

    private async Task MigrateAsync(OutgoingMigration migration, QemuProcess source)
    {
        var request = migration.Request;
        MigrationProgress end;
        Log.Starting(logger, migration.Id, request.Guest, request.Destination.Value, request.TargetAgent.ToString());
        var target = new RemoteMigrationTarget(agents.For(request.TargetAgent), migration.Id, request.Guest, options.Value.CallTimeout);
        try
        {
            await hold.AtAsync("running", migration.Id);
            var transport = _transports[request.Transport.Kind];
            var result = await transport.MigrateAsync(
                new TransportRequest(request, source, target, async ct =>
                {
                    await hold.AtAsync("cleaningUp", migration.Id);
                    await guests.RemoveAsync(request.Guest, source, graceful: true, ct);
                }, migration),
                migration.CancellationToken);
            end = ToEnd(result);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A bug, not an expected failure; still, the API must learn where the guest is.
            Log.Crashed(logger, ex, migration.Id);
            end = new MigrationProgress
            {
                Phase = MigrationPhase.Failed,
                FailureReason = $"The agent failed while migrating: {ex.GetType().Name}: {ex.Message}",
                GuestOnTarget = await TargetRunsAsync(target),
            };
        }

        if (migration.Probe is { } probe)
        {
            // Measured and gone before anyone learns the end: the result carries the figure, the switch no probe.
            await AddProbeOutcomeAsync(probe, end, migration.Id);
            await DisposeProbeAsync(probe, migration.Id);
        }

        if (end.GuestOnTarget && end.Stats is { } moved)
        {
            await AddArrivalAsync(target, moved, migration.Id, migration.Probe is null ? ArrivalWaitWithoutTraffic : ArrivalWait);
        }

        end = migration.Seal(end);
        try
        {
            await outbox.StoreAsync(end, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The end is published whatever happened to the disk: the Migrate stream still carries it.
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
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A probe of any kind of failure costs its measurement and nothing else.
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
        stats.FramesCorrupt = outcome.FramesCorrupt;
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

    /// <summary>
    /// The target's side of the switch-over: when the guest ran there and when OVS there polled its ports.
    /// With the pause and the probe's gap, that takes the network downtime apart. Never costs the result.
    /// </summary>
    private async Task AddArrivalAsync(IMigrationTarget target, MigrationStats stats, string migrationId, TimeSpan wait)
    {
        GuestArrival? arrival;
        try
        {
            arrival = await target.DescribeArrivalAsync(wait, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ArrivalUnknown(logger, migrationId, ex.Message);
            return;
        }

        if (arrival is null)
        {
            return;
        }

        var parts = stats.Switchover ??= new SwitchoverParts();
        parts.RunningAtUs = ToMicroseconds(arrival.RunningAt);
        parts.PortsUpAtUs = ToMicroseconds(arrival.PortsUpAt);
        if (arrival.RunningAt is { } running && arrival.PortsUpAt is { } up)
        {
            parts.PortsUpMs = Math.Max(0, (up - running).TotalMilliseconds);
            if (stats.HasNetworkDowntimeMs)
            {
                parts.TrafficMs = Math.Max(0, stats.NetworkDowntimeMs - stats.DowntimeMs - parts.PortsUpMs);
            }
        }

        if (arrival.Note is { } note)
        {
            Log.ArrivalUnknown(logger, migrationId, note);
        }
    }

    private static long ToMicroseconds(DateTimeOffset? at) => at is { } moment ? (moment - DateTimeOffset.UnixEpoch).Ticks / 10 : 0;

    /// <summary>The transport's end in the contract's terms: this is the gRPC edge of a migration.</summary>
    private static MigrationProgress ToEnd(TransportResult result)
    {
        var end = new MigrationProgress
        {
            Phase = result.Outcome switch
            {
                MigrationOutcome.Completed => MigrationPhase.Completed,
                MigrationOutcome.Cancelled => MigrationPhase.Cancelled,
                _ => MigrationPhase.Failed,
            },
            FailureReason = result.FailureReason ?? string.Empty,
            GuestOnTarget = result.GuestOnTarget,
        };
        if (result.Last is { } last)
        {
            end.Pass = last.Pass;
            end.TransferredBytes = last.TransferredBytes;
            end.TotalBytes = last.TotalBytes;
            end.DirtyPagesPerSecond = last.DirtyPagesPerSecond;
            end.ThroughputMbps = last.ThroughputMbps;
        }

        if (result.Measurements is { } m)
        {
            end.Stats = new MigrationStats
            {
                Transport = TransportMapping.ToProto(m.Transport),
                TransportReason = m.TransportReason,
                TotalTimeMs = m.TotalTimeMs,
                DowntimeMs = m.DowntimeMs,
                SetupTimeMs = m.SetupTimeMs,
                BytesTransferred = m.Pages.BytesTransferred,
                ZeroPages = m.Pages.ZeroPages,
                NormalPages = m.Pages.NormalPages,
                Passes = m.Pages.Passes,
                DirtyPagesPerSecond = m.Pages.DirtyPagesPerSecond,
                ThroughputMbps = m.Pages.ThroughputMbps,
                CleanupTimeMs = m.CleanupTimeMs,
                RamCheck = m.RamCheck ?? string.Empty,
            };
            if (m.PausedAt is not null || m.DowntimeParts is not null)
            {
                var parts = new SwitchoverParts { PausedAtUs = ToMicroseconds(m.PausedAt) };
                if (m.DowntimeParts is { } downtime)
                {
                    parts.PauseMs = downtime.PauseMs;
                    parts.FinalScanMs = downtime.FinalScanMs;
                    parts.FinalTransferMs = downtime.FinalTransferMs;
                    parts.TargetStartMs = downtime.TargetStartMs;
                }

                end.Stats.Switchover = parts;
            }
        }

        return end;
    }

    /// <summary>After a crash of the agent's own code, only the target can say whether it took the guest over.</summary>
    private async Task<bool> TargetRunsAsync(IMigrationTarget target)
    {
        try
        {
            using var budget = new CancellationTokenSource(QuestionBudget, timeProvider);
            return (await target.QueryStatusAsync(budget.Token)).Running;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or QmpException)
        {
            return false;
        }
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

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.SourceMigrationStarting, Level = LogLevel.Information, Message = "Migration {MigrationId}: moving guest {Guest} to {Destination} (target agent {TargetAgent})")]
        public static partial void Starting(ILogger logger, string migrationId, string guest, string destination, string targetAgent);

        [LoggerMessage(EventId = AgentEventIds.SourceMigrationEnded, Level = LogLevel.Information, Message = "Migration {MigrationId} ended {Phase}: total {TotalMs} ms, downtime {DowntimeMs} ms; {Reason}")]
        public static partial void Ended(ILogger logger, string migrationId, MigrationPhase phase, double totalMs, double downtimeMs, string? reason);

        [LoggerMessage(EventId = AgentEventIds.SourceMigrationCancelRequested, Level = LogLevel.Information, Message = "Migration {MigrationId}: cancel requested")]
        public static partial void CancelRequested(ILogger logger, string migrationId);

        [LoggerMessage(EventId = AgentEventIds.SourceCleanedUp, Level = LogLevel.Information, Message = "Migration {MigrationId}: source guest {Guest} removed")]
        public static partial void SourceCleanedUp(ILogger logger, string migrationId, string guest);

        [LoggerMessage(EventId = AgentEventIds.SourceMigrationCrashed, Level = LogLevel.Error, Message = "Migration {MigrationId}: the agent failed while migrating")]
        public static partial void Crashed(ILogger logger, Exception exception, string migrationId);

        [LoggerMessage(EventId = AgentEventIds.SourceMigrationProbeFailed, Level = LogLevel.Warning, Message = "Migration {MigrationId}: the network probe failed; the result has no network measurement")]
        public static partial void ProbeFailed(ILogger logger, Exception exception, string migrationId);

        [LoggerMessage(EventId = AgentEventIds.SourceMigrationArrivalUnknown, Level = LogLevel.Information, Message = "Migration {MigrationId}: the arrival's parts are incomplete: {Reason}")]
        public static partial void ArrivalUnknown(ILogger logger, string migrationId, string reason);

        [LoggerMessage(EventId = AgentEventIds.SourceMigrationOutboxFailed, Level = LogLevel.Critical, Message = "Migration {MigrationId}: the result could not be written to the outbox; only the Migrate stream carries it")]
        public static partial void OutboxFailed(ILogger logger, Exception exception, string migrationId);
    }
}
