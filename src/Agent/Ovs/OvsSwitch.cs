using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Ovs;

/// <summary>
/// The agent's OVS-DPDK switch, as <see cref="IOvsSwitch"/>: the host's own OVS when the options allow
/// it and one answers, else a switch the agent runs itself. This class validates names at the edge
/// (<see cref="OvsName"/>), runs one call at a time, refuses calls while the switch is not running,
/// and hands each job to its part: <see cref="OvsDaemons"/> (ovsdb-server and ovs-vswitchd),
/// <see cref="OvsdbSettings"/> (the switch-wide settings and state in the database), <see cref="OvsPorts"/>
/// (the bridge and its ports) and <see cref="OvsSteering"/> (OpenFlow rules), all over one <see cref="OvsCtl"/>.
/// </summary>
internal sealed partial class OvsSwitch : IOvsSwitch
{
    private static readonly TimeSpan SystemProbeTimeout = TimeSpan.FromSeconds(2);

    private readonly OvsOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly OvsCtl _ctl;
    private readonly OvsdbSettings _settings;
    private readonly OvsDaemons _daemons;
    private readonly OvsPorts _ports;
    private readonly OvsSteering _steering;
    private bool? _systemInstance;

    public OvsSwitch(OvsOptions options, TimeProvider timeProvider, ILogger<OvsSwitch> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        Bridge = OvsName.Validate(options.Bridge, "bridge");
        VhostUserSocketDirectory = options.RunDirectory;

        // Every part logs under this class's category, as the switch did when it was one class.
        _ctl = new OvsCtl(options, timeProvider, logger);
        _settings = new OvsdbSettings(options, _ctl);
        _daemons = new OvsDaemons(options, _ctl, _settings, Bridge, timeProvider, logger);
        _ports = new OvsPorts(options, _ctl, Bridge, logger);
        _steering = new OvsSteering(_ctl, _ports, Bridge, logger);
    }

    public string Bridge { get; }

    public string VhostUserSocketDirectory { get; private set; }

    public Task<OvsDaemonExit> UnexpectedExit => _daemons.UnexpectedExit;

    public int? VswitchdProcessId => _daemons.Vswitchd is { HasExited: false } daemon ? daemon.Pid : null;

    public string VswitchdLogFile => _systemInstance == true
        ? "/var/log/openvswitch/ovs-vswitchd.log"
        : Path.Combine(_options.LogDirectory, OvsDaemons.VswitchdName + ".log");

    /// <summary>How many times ovs-vsctl ran: lets tests prove a hostile name never reached it.</summary>
    internal long VsctlRuns => _ctl.VsctlRuns;

    /// <summary>From starting ovs-vswitchd to <c>dpdk_initialized=true</c>, the last time it was started.</summary>
    internal TimeSpan? DpdkInitTime => _daemons.DpdkInitTime;

    internal int? OvsdbServerPid => _daemons.Ovsdb?.Pid;

    internal int? VswitchdPid => _daemons.Vswitchd?.Pid;

    public async Task EnsureStartedAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _systemInstance ??= await DetectSystemInstanceAsync(cancellationToken);
            if (_systemInstance.Value)
            {
                await _ports.EnsureBridgeAsync(ownVswitchd: null, cancellationToken);
                return;
            }

            await _daemons.EnsureRunningAsync(cancellationToken);
            await _ports.EnsureBridgeAsync(_daemons.Vswitchd, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<VhostUserPort> AddVhostUserPortAsync(string port, VhostUserMode mode = VhostUserMode.OvsServer, string? socketDirectory = null, CancellationToken cancellationToken = default)
    {
        var name = OvsName.Validate(port, "port");
        if (socketDirectory is not null && (mode == VhostUserMode.OvsServer || !Path.IsPathRooted(socketDirectory)))
        {
            throw new ArgumentException("A socket directory is for client-mode ports only, and must be absolute.", nameof(socketDirectory));
        }

        var socket = Path.Combine(socketDirectory ?? VhostUserSocketDirectory, name);
        return await WhileRunningAsync(() => _ports.AddVhostUserPortAsync(name, mode, socket, cancellationToken), cancellationToken);
    }

    public async Task<int> AddInternalPortAsync(string port, CancellationToken cancellationToken = default)
    {
        var name = OvsName.Validate(port, "port");
        var ofport = await WhileRunningAsync(() => _ports.AddKernelPortAsync(name, ["type=internal"], cancellationToken), cancellationToken);
        await _ports.BringUpAsync(name, cancellationToken);
        return ofport;
    }

    public async Task<int> AddSystemPortAsync(string port, CancellationToken cancellationToken = default)
    {
        var name = OvsName.Validate(port, "port");
        return await WhileRunningAsync(() => _ports.AddKernelPortAsync(name, ["type=system"], cancellationToken), cancellationToken);
    }

    public async Task SteerAsync(string fromPort, IReadOnlyList<string> toPorts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(toPorts);
        var from = OvsName.Validate(fromPort, "port");
        var to = toPorts.Select(p => OvsName.Validate(p, "port")).Distinct(StringComparer.Ordinal).ToList();
        if (to.Count == 0)
        {
            throw new ArgumentException("At least one port to steer to is needed.", nameof(toPorts));
        }

        await WhileRunningAsync(() => _steering.SteerAsync(from, to, cancellationToken), cancellationToken);
    }

    public async Task ClearSteeringAsync(string fromPort, CancellationToken cancellationToken = default)
    {
        var from = OvsName.Validate(fromPort, "port");
        await WhileRunningAsync(() => _steering.ClearAsync(from, cancellationToken), cancellationToken);
    }

    public async Task SteerAsync(ulong cookie, IReadOnlyList<SteeringRule> rules, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var validated = rules.Select(r => r with
        {
            FromPort = OvsName.Validate(r.FromPort, "port"),
            ToPorts = r.ToPorts.Select(p => OvsName.Validate(p, "port")).Distinct(StringComparer.Ordinal).ToList(),
        }).ToList();
        await WhileRunningAsync(() => _steering.SteerAsync(cookie, validated, cancellationToken), cancellationToken);
    }

    public Task RemoveSteeringAsync(ulong cookie, CancellationToken cancellationToken = default) =>
        WhileRunningAsync(() => _steering.RemoveAsync(cookie, cancellationToken), cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> GetInterfaceStatusAsync(string port, CancellationToken cancellationToken = default) =>
        GetInterfaceMapAsync(port, "status", cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> GetInterfaceStatisticsAsync(string port, CancellationToken cancellationToken = default) =>
        GetInterfaceMapAsync(port, "statistics", cancellationToken);

    public async Task RemovePortAsync(string port, CancellationToken cancellationToken = default)
    {
        var name = OvsName.Validate(port, "port");
        await WhileRunningAsync(() => _ports.RemoveAsync(name, cancellationToken), cancellationToken);
    }

    public Task<IReadOnlyList<string>> ListPortsAsync(CancellationToken cancellationToken = default) =>
        WhileRunningAsync(() => _ports.ListAsync(cancellationToken), cancellationToken);

    public async Task<OvsSwitchStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var system = _systemInstance == true;
            if (_ctl.DbTarget is null)
            {
                return new OvsSwitchStatus(false, system, false, null, Bridge, "the switch has not been started");
            }

            if (!system && _daemons.NotRunning is { } dead)
            {
                return new OvsSwitchStatus(false, false, false, null, Bridge, $"{dead} is not running");
            }

            var (initialized, version) = await _settings.ReadDpdkStateAsync(cancellationToken);
            var where = system ? $"system OVS at {_options.SystemDbSocket}" : $"agent's OVS in {_options.RunDirectory}";
            return new OvsSwitchStatus(true, system, initialized, version, Bridge, where);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_systemInstance == true)
            {
                // The host's OVS is not ours to stop; the ports were removed by their guests' cleanup.
                _ctl.DbTarget = null;
                _systemInstance = null;
                return;
            }

            if (_daemons.Ovsdb is null && _daemons.Vswitchd is null)
            {
                return;
            }

            await _daemons.StopAsync(cancellationToken);
            _systemInstance = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    /// <summary>Kills one of the agent's daemons with SIGKILL, as a crash would: for supervision tests.</summary>
    internal void KillDaemonForTest(string daemon) => _daemons.Kill(daemon);

    private Task<IReadOnlyDictionary<string, string>> GetInterfaceMapAsync(string port, string column, CancellationToken cancellationToken)
    {
        var name = OvsName.Validate(port, "port");
        return WhileRunningAsync(() => _ports.ReadInterfaceMapAsync(name, column, cancellationToken), cancellationToken);
    }

    private async Task<bool> DetectSystemInstanceAsync(CancellationToken cancellationToken)
    {
        if (!_options.UseSystemInstance || !await OvsdbEcho.AnswersAsync(_options.SystemDbSocket, SystemProbeTimeout, _timeProvider, cancellationToken))
        {
            return false;
        }

        _ctl.DbTarget = "unix:" + _options.SystemDbSocket;

        // The system OVS puts vhost-user sockets in its own run directory, or vhost-sock-dir below it.
        VhostUserSocketDirectory = await _settings.ReadVhostSocketDirectoryAsync(Path.GetDirectoryName(_options.SystemDbSocket)!, cancellationToken);
        Log.UsingSystemInstance(_logger, _options.SystemDbSocket, VhostUserSocketDirectory);
        return true;
    }

    private async Task WhileRunningAsync(Func<Task> job, CancellationToken cancellationToken) =>
        await WhileRunningAsync(async () => { await job(); return true; }, cancellationToken);

    /// <summary>Runs <paramref name="job"/> alone, once the switch is known to run.</summary>
    private async Task<T> WhileRunningAsync<T>(Func<Task<T>> job, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotRunning();
            return await job();
        }
        finally
        {
            _gate.Release();
        }
    }

    private void ThrowIfNotRunning()
    {
        if (_ctl.DbTarget is null)
        {
            throw new InvalidOperationException("The OVS switch is not started; call EnsureStartedAsync first.");
        }

        _daemons.ThrowIfExited();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.OvsUsingSystemInstance, Level = LogLevel.Information, Message = "Using the host's OVS at {DbSocket}; vhost-user sockets in {SocketDirectory}")]
        public static partial void UsingSystemInstance(ILogger logger, string dbSocket, string socketDirectory);
    }
}
