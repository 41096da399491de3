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
/// Carries migrations out with the host agents, following DESIGN.md's flow: the target agent
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
            m.Advance(MigrationState.PreparingTarget, time.Now());
            await db.SaveChangesAsync(stopping);
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

            m.TargetPrepared($"{prepared.Address}:{prepared.Port}", time.Now(), prepared.PageStreamPort > 0 ? prepared.PageStreamPort : null);
            await db.SaveChangesAsync(stopping);
        }

        if (m.State == MigrationState.TargetReady)
        {
            m.Advance(MigrationState.Running, time.Now());
            await db.SaveChangesAsync(stopping);
        }

        await FollowMigrateAsync(db, m, guest!.Name, source!.AgentEndpoint!, target!.AgentEndpoint!, guest.MemoryMiB, stopping);
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
        if (source?.AgentEndpoint is { } sourceEndpoint && migrateIssued)
        {
            try
            {
                var reply = await agents.Idempotent(sourceEndpoint, (c, ct) =>
                    c.CancelAsync(new CancelRequest { MigrationId = m.Id.ToString() }, deadline: agents.Deadline(agents.Options.PrepareDeadline), cancellationToken: ct).ResponseAsync, cancellationToken);
                if (!reply.Cancelled && await SourcePassedSwitchoverAsync(db, m.Id, cancellationToken))
                {
                    return false;
                }
            }
            catch (Exception e) when (AgentClients.IsAgentFailure(e))
            {
                LogAbortCallFailed(logger, m.Id, m.SourceHostName, e.Message);
            }
        }

        if (target?.AgentEndpoint is { } targetEndpoint)
        {
            await TearDownTargetAsync(m, targetEndpoint);
        }

        return true;
    }

    /// <summary>
    /// A refused cancel means "too late" or "already over". The source's own reports tell which:
    /// give them a moment to arrive, then look whether the migration moved past the pause or ended.
    /// </summary>
    private async Task<bool> SourcePassedSwitchoverAsync(FerryDbContext db, Guid id, CancellationToken ct)
    {
        await Task.Delay(agents.Options.CallDeadline / 10, time, ct);
        var state = await db.Migrations.AsNoTracking().Where(x => x.Id == id).Select(x => new { x.State, x.GuestOnTarget }).SingleAsync(ct);
        return state.GuestOnTarget || state.State is MigrationState.SwitchingOver or MigrationState.CleaningUp or MigrationState.Completed;
    }

    private async Task FollowMigrateAsync(FerryDbContext db, DomainMigration m, string guestName, string sourceEndpoint, string targetEndpoint,
        int memoryMiB, CancellationToken stopping)
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
                    return;
                }
            }

            LogStreamEnded(logger, m.Id, m.SourceHostName);
        }
        catch (Exception e) when (AgentClients.IsAgentFailure(e) && !stopping.IsCancellationRequested)
        {
            // The source agent is unreachable: its migration may still run. Leave the state as it is;
            // the agent reports the end itself, or the progress timeout fails the migration.
            LogStreamBroken(logger, m.Id, m.SourceHostName, e.Message);
        }
    }

    private async Task TearDownTargetAsync(DomainMigration m, string targetEndpoint)
    {
        try
        {
            await agents.Idempotent(targetEndpoint, (c, ct) => c.CleanupAsync(
                new CleanupRequest { MigrationId = m.Id.ToString(), GuestName = m.GuestName, Role = CleanupRequest.Types.Role.Target },
                deadline: agents.Deadline(), cancellationToken: ct).ResponseAsync, CancellationToken.None);
        }
        catch (Exception e) when (AgentClients.IsAgentFailure(e))
        {
            LogAbortCallFailed(logger, m.Id, m.TargetHostName ?? "?", e.Message);
        }
    }

    private async Task FailAsync(FerryDbContext db, DomainMigration m, string reason, CancellationToken ct)
    {
        m.Fail(reason, time.Now());
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

    [LoggerMessage(EventId = 420, Level = LogLevel.Information, Message = "Migration {MigrationId} ended {Phase}: total {TotalMs} ms, downtime {DowntimeMs} ms")]
    private static partial void LogFinished(ILogger logger, Guid migrationId, string phase, double totalMs, double downtimeMs);

    [LoggerMessage(EventId = 421, Level = LogLevel.Warning, Message = "Migration {MigrationId}: progress stream from {Host} ended before the migration did")]
    private static partial void LogStreamEnded(ILogger logger, Guid migrationId, string host);

    [LoggerMessage(EventId = 422, Level = LogLevel.Warning, Message = "Migration {MigrationId}: lost the agent of {Host}: {Reason}")]
    private static partial void LogStreamBroken(ILogger logger, Guid migrationId, string host, string reason);

    [LoggerMessage(EventId = 423, Level = LogLevel.Warning, Message = "Migration {MigrationId}: tearing down on {Host} failed: {Reason}")]
    private static partial void LogAbortCallFailed(ILogger logger, Guid migrationId, string host, string reason);

    [LoggerMessage(EventId = 424, Level = LogLevel.Warning, Message = "Migration {MigrationId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, Guid migrationId, string reason);
}
