using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Api.Scheduling;
using Ferry.Contracts;
using Ferry.Domain.Migrations;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using DomainMigration = Ferry.Domain.Migrations.Migration;
using MigrationState = Ferry.Domain.Migrations.MigrationState;

namespace Ferry.Api.Agents;

/// <summary>
/// Carries migrations out with the host agents, following the flow of docs/architecture.md: the target agent
/// prepares (PrepareIncoming), the source agent migrates and streams its progress (Migrate),
/// every phase is persisted before the next step. Handed a migration again (after a restart, or
/// by another replica), it resumes from the persisted phase: PrepareIncoming and Migrate are
/// idempotent by migration id at the agents, so calling them again re-attaches, never restarts.
/// </summary>
internal sealed partial class AgentDispatcher(
    IServiceScopeFactory scopes, AgentClients agents, MigrationReports reports, TimeProvider time, ILogger<AgentDispatcher> logger)
    : IMigrationDispatcher
{
    public async Task RunAsync(Guid migrationId, CancellationToken stopping)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
        var m = await db.Migrations.SingleAsync(x => x.Id == migrationId, stopping);
        if (m.IsTerminal || m.State is MigrationState.Queued or MigrationState.Cancelling)
        {
            return;
        }

        var guest = await db.Guests.FirstOrDefaultAsync(g => g.Id == m.GuestId, stopping);
        var source = await db.Hosts.FirstOrDefaultAsync(h => h.Id == m.SourceHostId, stopping);
        var target = await db.Hosts.FirstOrDefaultAsync(h => h.Id == m.TargetHostId, stopping);
        var missing = guest is null ? "the guest was deleted"
            : source?.AgentEndpoint is null ? $"host '{m.SourceHostName}' has no registered agent"
            : target?.AgentEndpoint is null ? $"host '{m.TargetHostName}' has no registered agent"
            : null;
        if (missing is not null)
        {
            if (MigrationStateMachine.IsBeforeSwitchover(m.State))
            {
                await FailAsync(db, m, missing, stopping);
            }

            return;
        }

        if (m.State == MigrationState.Scheduled)
        {
            // Saved with the page stream token below, in one write: every state change is a transaction that queues
            // on the event log's lock, so a run writes as few as its resumption needs.
            m.Advance(MigrationState.PreparingTarget, time.Now());
        }

        if (m.State == MigrationState.PreparingTarget)
        {
            PrepareIncomingReply prepared;
            try
            {
                var request = new PrepareIncomingRequest
                {
                    MigrationId = m.Id.ToString(), Guest = guest!.ToSpec(), Policy = m.Policy.ToProto(guest!.MemoryMiB),
                    PageStreamToken = Google.Protobuf.ByteString.CopyFrom(m.EnsurePageStreamToken()),
                    SourceHost = source!.Name, SourceAddress = source.MigrationAddress,
                };

                // Kept before the call: a prepare retried after a restart must offer the same token.
                await db.SaveChangesAsync(stopping);
                prepared = await agents.Idempotent(target!.AgentEndpoint!, (c, ct) =>
                    c.PrepareIncomingAsync(request, deadline: agents.Deadline(agents.Options.PrepareDeadline), cancellationToken: ct).ResponseAsync, stopping);
            }
            catch (RpcException e)
            {
                await TearDownTargetAsync(m, target!.AgentEndpoint!);
                await FailAsync(db, m, $"target host '{target.Name}' could not prepare: {e.Status.Detail}", stopping);
                return;
            }

            // Saved with the advance to running below: a run that dies before that write prepares again on resumption,
            // which the target answers from what it prepared (PrepareIncoming is idempotent by migration id).
            m.TargetPrepared($"{prepared.Address}:{prepared.Port}", time.Now(), prepared.PageStreamPort > 0 ? prepared.PageStreamPort : null);
        }

        if (m.State == MigrationState.TargetReady)
        {
            m.Advance(MigrationState.Running, time.Now());
        }

        await db.SaveChangesAsync(stopping);

        var (ended, refusal) = await FollowMigrateAsync(db, m, guest!.Name, source!.AgentEndpoint!, target!.AgentEndpoint!, guest.MemoryMiB, stopping);
        if (ended)
        {
            await SettleAsync(db, migrationId, source.AgentEndpoint!, target.AgentEndpoint!, stopping);
            return;
        }

        db.ChangeTracker.Clear();
        m = await db.Migrations.SingleAsync(x => x.Id == migrationId, stopping);
        if (refusal is not null && MigrationStateMachine.IsBeforeSwitchover(m.State))
        {
            // Refused before the guest was paused: the guest runs at the source, which never started; nothing is left to wait for.
            await TearDownTargetAsync(m, target.AgentEndpoint!);
            await FailAsync(db, m, $"host '{m.SourceHostName}' refused to migrate: {refusal}", stopping);
        }
        else if (m.State is MigrationState.SwitchingOver or MigrationState.CleaningUp)
        {
            await ReconcileAsync(db, m, source.AgentEndpoint!, target.AgentEndpoint!, refusal, stopping);
            await SettleAsync(db, migrationId, source.AgentEndpoint!, target.AgentEndpoint!, stopping);
        }
    }

    /// <summary>
    /// After a migration's end, what is left at the end the guest did not stay on goes. With the guest on the target
    /// but no clean end from the source (its agent was lost past the pause and the API reconciled, or the source could
    /// not ask the target whether it runs), the source's paused copy is left: two QEMUs of one guest, seen in the fault
    /// suite; once the target says the guest runs there, the source is asked to remove it (the agent refuses unless
    /// QEMU handed the guest over). With the guest at the source, the target's prepared incoming QEMU is left when the
    /// source could not tear it down (the link between them was cut); the target is asked (it refuses while the guest
    /// runs there). Asked in the background with backoff (1 s doubling to 30 s) until
    /// <see cref="AgentClientOptions.ReconcileDeadline"/>; an agent back later keeps the leftover, which never runs by
    /// itself, and the log says so.
    /// </summary>
    private async Task SettleAsync(FerryDbContext db, Guid migrationId, string sourceEndpoint, string targetEndpoint, CancellationToken stopping)
    {
        db.ChangeTracker.Clear();
        var m = await db.Migrations.AsNoTracking().SingleAsync(x => x.Id == migrationId, stopping);
        if (!m.IsTerminal || (m.State == MigrationState.Completed && m.Result is not null))
        {
            return;
        }

        if (m.GuestOnTarget)
        {
            SettleInBackground(m, m.SourceHostName, async ct =>
                await RunsAtAsync(m, targetEndpoint, m.TargetHostName, ct) && await CleanUpAtAsync(m, sourceEndpoint, m.SourceHostName, CleanupRequest.Types.Role.Source, ct), stopping);
        }
        else
        {
            SettleInBackground(m, m.TargetHostName, ct => TearDownTargetAsync(m, targetEndpoint, ct), stopping);
        }
    }

    /// <summary>Tries <paramref name="settle"/> until it succeeds, with backoff (1 s doubling to 30 s) until the reconcile deadline, off the caller's path.</summary>
    private void SettleInBackground(DomainMigration m, string? host, Func<CancellationToken, Task<bool>> settle, CancellationToken stopping)
    {
        _ = Task.Run(async () =>
        {
            var started = time.GetTimestamp();
            for (var attempt = 1; time.GetElapsedTime(started) < agents.Options.ReconcileDeadline; attempt++)
            {
                if (await settle(stopping))
                {
                    LogSettled(logger, m.Id, host);
                    return;
                }

                await Task.Delay(MigrationScheduler.RetryDelay(attempt), time, stopping);
            }

            LogNotSettled(logger, m.Id, host, m.GuestName);
        }, stopping).ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>
    /// Past the pause, the source's result did not come: its agent forgot the migration (it refused the re-attach), or
    /// has not answered for a progress timeout. The agents' guests say where it is; when neither says, this is asked
    /// again after the scheduler's backoff, and after <see cref="AgentClientOptions.ReconcileDeadline"/> the
    /// migration fails saying so (the guest counted as the target's, as it is from the pause on).
    /// </summary>
    private async Task ReconcileAsync(FerryDbContext db, DomainMigration m, string sourceEndpoint, string targetEndpoint, string? refusal, CancellationToken ct)
    {
        var since = time.Now() - m.EnteredCurrentStateAt;
        if (refusal is null && since < TimeSpan.FromSeconds(m.Policy.ProgressTimeoutSeconds))
        {
            // Only unreachable so far: its end may still come, with its measurements.
            return;
        }

        var why = refusal is null ? $"host '{m.SourceHostName}' has not answered since {m.State}" : $"host '{m.SourceHostName}' no longer knows the migration: {refusal}";
        switch (await LocateGuestAsync(m, sourceEndpoint, targetEndpoint, ct))
        {
            case GuestPlace.Target:
                await reports.RecordPlaceAsync(db, m.Id, GuestPlace.Target,
                    $"the agent of host '{m.TargetHostName}' says the guest runs there; the source's result was lost ({why})", ct);
                break;
            case GuestPlace.Source:
                await FailAsync(db, m, $"the switch-over did not complete: the guest runs at host '{m.SourceHostName}' again ({why})", ct, guestOnTarget: false);
                break;
            default:
                if (since > agents.Options.ReconcileDeadline)
                {
                    await FailAsync(db, m, $"neither host '{m.SourceHostName}' nor host '{m.TargetHostName}' says the guest runs there, " +
                        $"{agents.Options.ReconcileDeadline.TotalSeconds:F0} s after {m.State} ({why})", ct);
                }

                break;
        }
    }

    public async Task<bool> AbortAsync(Guid migrationId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
        var m = await db.Migrations.AsNoTracking().SingleAsync(x => x.Id == migrationId, cancellationToken);
        var source = await db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == m.SourceHostId, cancellationToken);
        var target = await db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == m.TargetHostId, cancellationToken);
        // Whether the source was asked to migrate at all: only then can a cancel come too late.
        var migrateIssued = m.Timeline.Any(e => e.State == MigrationState.Running);
        if (migrateIssued)
        {
            var outcome = source?.AgentEndpoint is { } sourceEndpoint
                ? await CancelAtSourceAsync(m, sourceEndpoint, cancellationToken)
                : CancelReply.Types.Outcome.Unknown;
            switch (outcome)
            {
                case CancelReply.Types.Outcome.Cancelled:
                    break;
                case CancelReply.Types.Outcome.TooLate:
                    // The guest is paused at the source: tearing the target down now would lose it. It finishes forward.
                    await reports.RecordPlaceAsync(db, m.Id, GuestPlace.PastThePause,
                        $"the cancel came too late: host '{m.SourceHostName}' had paused the guest for switch-over", cancellationToken);
                    return false;
                case CancelReply.Types.Outcome.AlreadyEnded:
                    // The source's end says where the guest is; Migrate replays it.
                    if (!await ReplayEndAsync(db, m, source!.AgentEndpoint!, target?.AgentEndpoint, cancellationToken))
                    {
                        return false;
                    }

                    break;
                default:
                    // The source knows nothing of it, or cannot be asked: the agents' guests tell.
                    var place = await LocateGuestAsync(m, source?.AgentEndpoint, target?.AgentEndpoint, cancellationToken);
                    if (place == GuestPlace.Unknown && !m.Timeline.Any(e => e.State == MigrationState.SwitchingOver)
                        && target?.AgentEndpoint is { } emptyTarget && await TearDownTargetAsync(m, emptyTarget))
                    {
                        // Neither runs it, the switch-over was never reported, and the target let its side be torn
                        // down (it refuses while the guest runs there): the guest is the source's, stopped there
                        // (make run's restart had ended every QEMU of the killed run). Waiting for the reconcile
                        // deadline would only hold the guest for minutes.
                        return true;
                    }

                    if (place != GuestPlace.Source)
                    {
                        await RecordAsync(db, m, place, cancellationToken);
                        return false;
                    }

                    break;
            }
        }

        if (target?.AgentEndpoint is { } targetEndpoint && !await TearDownTargetAsync(m, targetEndpoint))
        {
            // The target refused: when it is because the guest runs there, the guest is the target's.
            var place = await LocateGuestAsync(m, null, targetEndpoint, cancellationToken);
            if (place == GuestPlace.Target)
            {
                await RecordAsync(db, m, place, cancellationToken);
                return false;
            }

            // Unreachable (a cut link): the migration ends with the guest at the source, and what the target
            // prepared goes once it can be asked.
            SettleInBackground(m, m.TargetHostName, ct => TearDownTargetAsync(m, targetEndpoint, ct), CancellationToken.None);
        }

        return true;
    }

    /// <summary>Asks the source to cancel; an agent from before the outcome field answers with <c>cancelled</c> alone.</summary>
    private async Task<CancelReply.Types.Outcome> CancelAtSourceAsync(DomainMigration m, string sourceEndpoint, CancellationToken ct)
    {
        try
        {
            // The agent waits for the migration to settle (5 s by default) before it answers: the call deadline covers that.
            var reply = await agents.Idempotent(sourceEndpoint, (c, t) =>
                c.CancelAsync(new CancelRequest { MigrationId = m.Id.ToString() }, deadline: agents.Deadline(), cancellationToken: t).ResponseAsync, ct);
            var outcome = reply.Outcome != CancelReply.Types.Outcome.Unspecified ? reply.Outcome
                : reply.Cancelled ? CancelReply.Types.Outcome.Cancelled
                : CancelReply.Types.Outcome.Unknown;
            LogCancelAnswered(logger, m.Id, m.SourceHostName, outcome.ToString());
            return outcome;
        }
        catch (Exception e) when (AgentClients.IsAgentFailure(e))
        {
            LogAbortCallFailed(logger, m.Id, m.SourceHostName, e.Message);
            return CancelReply.Types.Outcome.Unknown;
        }
    }

    /// <summary>
    /// Re-attaches to the source's Migrate stream, which replays the migration's end, and applies it. True when the
    /// end was applied and the guest is not on the target (the target is then to be torn down).
    /// </summary>
    private async Task<bool> ReplayEndAsync(FerryDbContext db, DomainMigration m, string sourceEndpoint, string? targetEndpoint, CancellationToken ct)
    {
        var guest = await db.Guests.AsNoTracking().FirstOrDefaultAsync(g => g.Id == m.GuestId, ct);
        var (ended, _) = await FollowMigrateAsync(db, m, m.GuestName, sourceEndpoint, targetEndpoint ?? string.Empty, guest?.MemoryMiB ?? 1024, ct);
        db.ChangeTracker.Clear();
        var now = await db.Migrations.AsNoTracking().Where(x => x.Id == m.Id).Select(x => new { x.State, x.GuestOnTarget }).SingleAsync(ct);
        return ended && !now.GuestOnTarget && now.State is MigrationState.Cancelling or MigrationState.Cancelled or MigrationState.Failed;
    }

    /// <summary>
    /// Where the guest runs, from its agents' own answers: the target first (a guest running there has been taken
    /// over), then the source. <see cref="GuestPlace.Unknown"/> when neither runs it or neither answers.
    /// </summary>
    private async Task<GuestPlace> LocateGuestAsync(DomainMigration m, string? sourceEndpoint, string? targetEndpoint, CancellationToken ct)
    {
        if (targetEndpoint is not null && await RunsAtAsync(m, targetEndpoint, m.TargetHostName, ct))
        {
            return GuestPlace.Target;
        }

        if (sourceEndpoint is not null && await RunsAtAsync(m, sourceEndpoint, m.SourceHostName, ct))
        {
            return GuestPlace.Source;
        }

        LogGuestNotFound(logger, m.Id, m.GuestName);
        return GuestPlace.Unknown;
    }

    private async Task<bool> RunsAtAsync(DomainMigration m, string endpoint, string? host, CancellationToken ct)
    {
        try
        {
            var status = await agents.Idempotent(endpoint, (c, t) =>
                c.GetGuestStatusAsync(new GuestStatusRequest { Name = m.GuestName }, deadline: agents.Deadline(), cancellationToken: t).ResponseAsync, ct);
            return status.Exists && status.RunState == "running";
        }
        catch (Exception e) when (AgentClients.IsAgentFailure(e))
        {
            LogAbortCallFailed(logger, m.Id, host ?? "?", e.Message);
            return false;
        }
    }

    private async Task RecordAsync(FerryDbContext db, DomainMigration m, GuestPlace place, CancellationToken ct)
    {
        if (place == GuestPlace.Target)
        {
            await reports.RecordPlaceAsync(db, m.Id, place,
                $"the agent of host '{m.TargetHostName}' says the guest runs there; the source's result was not available", ct);
        }
    }

    /// <summary>
    /// Follows the source's Migrate stream, applying each report. Returns how it ended: with the migration's end,
    /// broken (the agent may still run it), or refused by the source before anything moved (its detail).
    /// </summary>
    private async Task<(bool Ended, string? Refusal)> FollowMigrateAsync(FerryDbContext db, DomainMigration m, string guestName, string sourceEndpoint,
        string targetEndpoint, int memoryMiB, CancellationToken stopping)
    {
        var (address, port) = SplitEndpoint(m.TargetEndpoint!);
        var request = new MigrateRequest
        {
            MigrationId = m.Id.ToString(), GuestName = guestName, TargetAddress = address, TargetPort = port,
            TargetAgentEndpoint = targetEndpoint, TargetHost = m.TargetHostName ?? string.Empty, Policy = m.Policy.ToProto(memoryMiB),
            PageStreamPort = m.PageStreamPort ?? 0,
            PageStreamToken = m.PageStreamToken is { } token ? Google.Protobuf.ByteString.CopyFrom(token) : Google.Protobuf.ByteString.Empty,
        };
        try
        {
            // Not retried by the pipeline: if the stream breaks, the scheduler hands the migration over
            // again and this call re-attaches to the migration the agent is still running.
            using var call = await agents.Once(sourceEndpoint, (c, ct) => Task.FromResult(c.Migrate(request, cancellationToken: ct)), stopping);
            await foreach (var progress in call.ResponseStream.ReadAllAsync(stopping))
            {
                db.ChangeTracker.Clear();
                await reports.ApplyAsync(db, progress, stopping);
                if (progress.Phase is MigrationPhase.Completed or MigrationPhase.Failed or MigrationPhase.Cancelled)
                {
                    LogFinished(logger, m.Id, progress.Phase.ToString(), progress.Stats?.TotalTimeMs ?? 0, progress.Stats?.DowntimeMs ?? 0);
                    return (true, null);
                }
            }

            LogStreamEnded(logger, m.Id, m.SourceHostName);
        }
        catch (RpcException e) when (IsRefusal(e.StatusCode) && !stopping.IsCancellationRequested)
        {
            // The agent answered and said no (the guest is not running there, or is moved by another migration):
            // asking again the same way gets the same answer.
            LogStreamBroken(logger, m.Id, m.SourceHostName, e.Status.Detail);
            return (false, e.Status.Detail);
        }
        catch (Exception e) when (AgentClients.IsAgentFailure(e) && !stopping.IsCancellationRequested)
        {
            // The source agent is unreachable: its migration may still run. Leave the state as it is;
            // the agent reports the end itself, or the progress timeout fails the migration.
            LogStreamBroken(logger, m.Id, m.SourceHostName, e.Message);
        }

        return (false, null);
    }

    /// <summary>Status codes by which an agent refuses a request it understood, as opposed to failing to answer.</summary>
    private static bool IsRefusal(StatusCode code) =>
        code is StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.InvalidArgument or StatusCode.PermissionDenied
            or StatusCode.AlreadyExists or StatusCode.Unauthenticated;

    /// <summary>Tells the target to tear down what it prepared; false when it refused or could not be reached.</summary>
    private Task<bool> TearDownTargetAsync(DomainMigration m, string targetEndpoint, CancellationToken ct = default) =>
        CleanUpAtAsync(m, targetEndpoint, m.TargetHostName, CleanupRequest.Types.Role.Target, ct);

    /// <summary>Asks one end of the migration to clean its side up; false (logged) when its agent cannot be reached or refuses.</summary>
    private async Task<bool> CleanUpAtAsync(DomainMigration m, string endpoint, string? host, CleanupRequest.Types.Role role, CancellationToken ct)
    {
        try
        {
            await agents.Idempotent(endpoint, (c, t) => c.CleanupAsync(
                new CleanupRequest { MigrationId = m.Id.ToString(), GuestName = m.GuestName, Role = role },
                deadline: agents.Deadline(), cancellationToken: t).ResponseAsync, ct);
            return true;
        }
        catch (Exception e) when (AgentClients.IsAgentFailure(e))
        {
            LogAbortCallFailed(logger, m.Id, host ?? "?", e.Message);
            return false;
        }
    }

    private async Task FailAsync(FerryDbContext db, DomainMigration m, string reason, CancellationToken ct, bool? guestOnTarget = null)
    {
        m.Fail(reason, time.Now(), guestOnTarget);
        if (await db.Guests.FirstOrDefaultAsync(g => g.Id == m.GuestId, ct) is { } guest)
        {
            guest.EndMigration(m.GuestOnTarget ? m.TargetHostId!.Value : m.SourceHostId);
        }

        await db.SaveChangesAsync(ct);
        LogFailed(logger, m.Id, reason);
    }

    private static (string Address, int Port) SplitEndpoint(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        return (endpoint[..colon], int.Parse(endpoint[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    [LoggerMessage(EventId = ApiEventIds.MigrationEnded, Level = LogLevel.Information, Message = "Migration {MigrationId} ended {Phase}: total {TotalMs} ms, downtime {DowntimeMs} ms")]
    private static partial void LogFinished(ILogger logger, Guid migrationId, string phase, double totalMs, double downtimeMs);

    [LoggerMessage(EventId = ApiEventIds.ProgressStreamEnded, Level = LogLevel.Warning, Message = "Migration {MigrationId}: progress stream from {Host} ended before the migration did")]
    private static partial void LogStreamEnded(ILogger logger, Guid migrationId, string host);

    [LoggerMessage(EventId = ApiEventIds.AgentLost, Level = LogLevel.Warning, Message = "Migration {MigrationId}: lost the agent of {Host}: {Reason}")]
    private static partial void LogStreamBroken(ILogger logger, Guid migrationId, string host, string reason);

    [LoggerMessage(EventId = ApiEventIds.TeardownCallFailed, Level = LogLevel.Warning, Message = "Migration {MigrationId}: tearing down on {Host} failed: {Reason}")]
    private static partial void LogAbortCallFailed(ILogger logger, Guid migrationId, string host, string reason);

    [LoggerMessage(EventId = ApiEventIds.CancelAnswered, Level = LogLevel.Information, Message = "Migration {MigrationId}: the source {Host} answered the cancel: {Outcome}")]
    private static partial void LogCancelAnswered(ILogger logger, Guid migrationId, string host, string outcome);

    [LoggerMessage(EventId = ApiEventIds.GuestNotFound, Level = LogLevel.Warning, Message = "Migration {MigrationId}: neither agent says guest {Guest} runs on it; asking again later")]
    private static partial void LogGuestNotFound(ILogger logger, Guid migrationId, string guest);

    [LoggerMessage(EventId = ApiEventIds.LeftoversRemoved, Level = LogLevel.Information, Message = "Migration {MigrationId}: host {Host}, where the guest did not stay, removed what the migration left there")]
    private static partial void LogSettled(ILogger logger, Guid migrationId, string? host);

    [LoggerMessage(EventId = ApiEventIds.LeftoversNotSettled, Level = LogLevel.Warning, Message = "Migration {MigrationId}: host {Host} may still hold a copy of guest {Guest} that does not run: it could not be asked, refused, or (guest on the target) the target did not confirm it runs the guest")]
    private static partial void LogNotSettled(ILogger logger, Guid migrationId, string? host, string guest);

    [LoggerMessage(EventId = ApiEventIds.MigrationFailed, Level = LogLevel.Warning, Message = "Migration {MigrationId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, Guid migrationId, string reason);
}
