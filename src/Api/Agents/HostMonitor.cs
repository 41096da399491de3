using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Domain.Hosts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ferry.Api.Agents;

/// <summary>Marks hosts down whose agents stopped heartbeating, so placement stops choosing them.</summary>
internal sealed partial class HostMonitor(IServiceScopeFactory scopes, IOptions<AgentClientOptions> options, TimeProvider time, ILogger<HostMonitor> logger)
    : BackgroundService
{
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
                // The database restarting, or a heartbeat that changed a host meanwhile: the next tick sweeps again.
                // Letting it through would stop the host (BackgroundServiceExceptionBehavior.StopHost), API and all.
                LogSweepFailed(logger, e);
            }
        }
    }

    /// <summary>One sweep: hosts with an agent whose last heartbeat is older than the allowance go down.</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
        var cutoff = time.Now() - (options.Value.HeartbeatInterval * options.Value.MissedHeartbeatsForDown);
        var silent = await db.Hosts
            .Where(h => h.AgentEndpoint != null && h.State != HostState.Down && h.LastHeartbeatAt < cutoff)
            .ToListAsync(ct);
        foreach (var host in silent)
        {
            host.MarkDown();
            LogHostDown(logger, host.Name, host.LastHeartbeatAt);
        }

        await db.SaveChangesAsync(ct);
    }

    [LoggerMessage(EventId = ApiEventIds.HostDown, Level = LogLevel.Warning, Message = "Host {Host} is down: last heartbeat {LastHeartbeat}")]
    private static partial void LogHostDown(ILogger logger, string host, DateTimeOffset? lastHeartbeat);

    [LoggerMessage(EventId = ApiEventIds.HostSweepFailed, Level = LogLevel.Warning, Message = "Heartbeat sweep failed; retrying")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
