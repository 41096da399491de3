using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Domain.Hosts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ferry.Api.Agents;

/// <summary>
/// Marks hosts down whose agents stopped heartbeating, so placement stops choosing them. Not before this API has run
/// for the allowance itself: heartbeats sent while it was down (restarted, rolled out) never reached it, and an agent
/// backing off its retries may take a few intervals to reach it again. Swept at once, every host of a fleet went down
/// after an API restart longer than the allowance (seen in EndToEnd's API-restart test: host-b marked down by the
/// new API's first sweep, 2 s after it started).
/// </summary>
internal sealed partial class HostMonitor(IServiceScopeFactory scopes, IOptions<AgentClientOptions> options, TimeProvider time, ILogger<HostMonitor> logger)
    : BackgroundService
{
    private readonly DateTimeOffset _startedAt = time.GetUtcNow();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or DbUpdateException or TimeoutException or InvalidOperationException
                && !stoppingToken.IsCancellationRequested)
            {
                // The database restarting: the next tick sweeps again.
                // Letting it through would stop the host (BackgroundServiceExceptionBehavior.StopHost), API and all.
                LogSweepFailed(logger, e);
            }
        }
    }

    /// <summary>One sweep: hosts with an agent whose last heartbeat is older than the allowance go down (none while this API is younger than the allowance).</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
        var allowance = options.Value.HeartbeatInterval * options.Value.MissedHeartbeatsForDown;
        if (time.GetUtcNow() - _startedAt < allowance)
        {
            return;
        }

        // One statement, so that a heartbeat written between a read and a write cannot be overwritten: a sweep that
        // read a host as silent and wrote "down" after its heartbeat had made it ready again left a live host down
        // until its next heartbeat (seen in ControlPlaneServiceTests, under load).
        var cutoff = time.Now() - allowance;
        var silent = await db.Database.SqlQuery<SilentHost>($"""
            UPDATE hosts SET state = {nameof(HostState.Down)}
            WHERE agent_endpoint IS NOT NULL AND state <> {nameof(HostState.Down)} AND last_heartbeat_at < {cutoff}
            RETURNING name, last_heartbeat_at
            """).ToListAsync(ct);
        foreach (var host in silent)
        {
            LogHostDown(logger, host.Name, host.LastHeartbeatAt);
        }
    }

    private sealed record SilentHost(string Name, DateTimeOffset? LastHeartbeatAt);

    [LoggerMessage(EventId = ApiEventIds.HostDown, Level = LogLevel.Warning, Message = "Host {Host} is down: last heartbeat {LastHeartbeat}")]
    private static partial void LogHostDown(ILogger logger, string host, DateTimeOffset? lastHeartbeat);

    [LoggerMessage(EventId = ApiEventIds.HostSweepFailed, Level = LogLevel.Warning, Message = "Heartbeat sweep failed; retrying")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
