using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Ovs;

/// <summary>
/// Keeps the agent's switch up for as long as the agent runs: started with the agent, restarted
/// when a daemon the agent started dies, stopped (bridge removed, daemons asked to exit) when the
/// agent stops. A switch that cannot start does not stop the agent: guests without NICs still
/// run, the inventory reports why OVS is down, and a guest with ports is refused with that reason.
/// </summary>
internal sealed partial class OvsSupervisor(IOvsSwitch ovs, TimeProvider timeProvider, ILogger<OvsSupervisor> logger) : BackgroundService
{
    /// <summary>Between two failed attempts; a crash loop must not spin.</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ovs.EnsureStartedAsync(stoppingToken);
                Log.Ready(logger, ovs.Bridge, ovs.VhostUserSocketDirectory);
                var exit = await ovs.UnexpectedExit.WaitAsync(stoppingToken);
                Log.DaemonDied(logger, exit.Daemon, exit.ExitCode);
            }
            catch (OvsCommandException ex)
            {
                Log.StartFailed(logger, ex.Message, RetryDelay.TotalSeconds);
                await Task.Delay(RetryDelay, timeProvider, stoppingToken);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await base.StopAsync(cancellationToken);
        }
        finally
        {
            await ovs.StopAsync(cancellationToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.OvsReady, Level = LogLevel.Information, Message = "OVS-DPDK ready: bridge {Bridge}, vhost-user sockets in {SocketDirectory}")]
        public static partial void Ready(ILogger logger, string bridge, string socketDirectory);

        [LoggerMessage(EventId = AgentEventIds.OvsDaemonDied, Level = LogLevel.Error, Message = "OVS daemon {Daemon} exited on its own with code {ExitCode}; restarting the switch")]
        public static partial void DaemonDied(ILogger logger, string daemon, int exitCode);

        [LoggerMessage(EventId = AgentEventIds.OvsStartFailed, Level = LogLevel.Error, Message = "OVS-DPDK could not start: {Reason}; guests with vhost-user ports are refused until it does (next attempt in {Seconds} s)")]
        public static partial void StartFailed(ILogger logger, string reason, double seconds);
    }
}
