using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Ovs;

internal sealed partial class OvsSwitch : IOvsSwitch
{
    private const string OvsdbServerName = "ovsdb-server";
    private const string VswitchdName = "ovs-vswitchd";

    /// <summary>
    /// A DPDK port on the null driver that receives nothing and drops what it is sent; it exists only to
    /// hold OVS's shared packet mempool. Without it OVS creates the mempool when the first guest NIC on the
    /// switch comes up and frees it when the last one goes: 0.7 s of creation measured here, inside every
    /// migration's network gap, racing the vhost device's own allocations for DPDK's heap ("failed to
    /// allocate memory for vq internal data"). With it the mempool is made once, when the switch starts,
    /// and a guest NIC coming up reuses it (its rx queue is polled 1–3 ms after the device is added).
    /// </summary>
    public const string MempoolKeeperPort = "ferry-mempool";

    /// <summary>Above the bridge's own NORMAL rule (priority 0), below anything an operator adds by hand at the default 32768.</summary>
    private const int SteeringPriority = 1000;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan SystemProbeTimeout = TimeSpan.FromSeconds(2);

    private readonly OvsOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly OvsCtl _ctl;
    private TaskCompletionSource<OvsDaemonExit> _unexpectedExit = NewExitSource();
    private OvsDaemon? _ovsdb;
    private OvsDaemon? _vswitchd;
    private bool? _systemInstance;
    private bool _runDirectoryPrepared;

    public OvsSwitch(OvsOptions options, TimeProvider timeProvider, ILogger<OvsSwitch> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        Bridge = OvsName.Validate(options.Bridge, "bridge");
        VhostUserSocketDirectory = options.RunDirectory;
        _ctl = new OvsCtl(options, timeProvider, logger);
    }

    public string Bridge { get; }

    public string VhostUserSocketDirectory { get; private set; }

    public Task<OvsDaemonExit> UnexpectedExit => Volatile.Read(ref _unexpectedExit).Task;

    public int? VswitchdProcessId => _vswitchd is { HasExited: false } daemon ? daemon.Pid : null;

    public string VswitchdLogFile => _systemInstance == true
        ? "/var/log/openvswitch/ovs-vswitchd.log"
        : Path.Combine(_options.LogDirectory, VswitchdName + ".log");

    /// <summary>How many times ovs-vsctl ran: lets tests prove a hostile name never reached it.</summary>
    internal long VsctlRuns => _ctl.VsctlRuns;

    /// <summary>From starting ovs-vswitchd to <c>dpdk_initialized=true</c>, the last time it was started.</summary>
    internal TimeSpan? DpdkInitTime { get; private set; }

    internal int? OvsdbServerPid => _ovsdb?.Pid;

    internal int? VswitchdPid => _vswitchd?.Pid;

    private string DbFile => Path.Combine(_options.RunDirectory, "conf.db");

    private string DbSocket => Path.Combine(_options.RunDirectory, "db.sock");

    public async Task EnsureStartedAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _systemInstance ??= await DetectSystemInstanceAsync(cancellationToken);
            if (_systemInstance.Value)
            {
                await EnsureBridgeAsync(cancellationToken);
                return;
            }

            if (!_runDirectoryPrepared)
            {
                await PrepareRunDirectoryAsync(cancellationToken);
                _runDirectoryPrepared = true;
            }

            // A fresh task before anything is started, so a daemon that dies from here on is reported on it.
            if (_unexpectedExit.Task.IsCompleted)
            {
                Volatile.Write(ref _unexpectedExit, NewExitSource());
            }

            var restarting = _ovsdb is not null || _vswitchd is not null;
            if (_ovsdb is null || _ovsdb.HasExited)
            {
                await StartOvsdbServerAsync(cancellationToken);
            }

            if (_vswitchd is null || _vswitchd.HasExited)
            {
                await StartVswitchdAsync(restarting, cancellationToken);
            }

            await EnsureBridgeAsync(cancellationToken);
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
        List<string> arguments = ["--may-exist", "add-port", Bridge, name, "--", "set", "Interface", name];
        if (mode == VhostUserMode.OvsServer)
        {
            arguments.AddRange(["type=dpdkvhostuser", "--", "remove", "Interface", name, "options", "vhost-server-path"]);
        }
        else
        {
            arguments.AddRange(["type=dpdkvhostuserclient", $"options:vhost-server-path={OvsCtl.Quote(socket)}"]);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotRunning();
            await _ctl.VsctlAsync(arguments, cancellationToken);
            var state = await _ctl.VsctlAsync(["--no-wait", "get", "Interface", name, "ofport", "error"], cancellationToken);
            var lines = state.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var ofport = lines.Length > 0 && int.TryParse(lines[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : -1;
            var error = lines.Length > 1 && lines[1] != "[]" ? lines[1] : null;
            if (ofport <= 0 || error is not null)
            {
                throw new OvsCommandException($"OVS did not accept vhost-user port {name} (ofport {ofport}): {error ?? "no error given"}");
            }

            Log.PortAdded(_logger, name, Bridge, mode, socket, ofport);
            return new VhostUserPort(name, socket, mode, ofport);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<int> AddInternalPortAsync(string port, CancellationToken cancellationToken = default)
    {
        var name = OvsName.Validate(port, "port");
        var ofport = await AddKernelPortAsync(name, ["type=internal"], cancellationToken);

        // OVS creates the tap down; a probe's frames only cross an interface that is up.
        var namespaceArguments = _options.NetworkNamespace.Length == 0 ? Array.Empty<string>() : ["-n", _options.NetworkNamespace];
        var result = await _ctl.RunAsync("ip", [.. namespaceArguments, "link", "set", "dev", name, "up"], cancellationToken);
        if (!result.Succeeded)
        {
            throw new OvsCommandException($"Internal port {name} could not be brought up: {result.Error.Trim()}");
        }

        return ofport;
    }

    public async Task<int> AddSystemPortAsync(string port, CancellationToken cancellationToken = default)
    {
        var name = OvsName.Validate(port, "port");
        return await AddKernelPortAsync(name, ["type=system"], cancellationToken);
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

        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotRunning();
            var inPort = await OpenFlowPortAsync(from, cancellationToken);
            var outPorts = new List<int>();
            foreach (var port in to)
            {
                outPorts.Add(await OpenFlowPortAsync(port, cancellationToken));
            }

            // Numbers, not names, in the rule: all were read back from OVS for validated names. OpenFlow
            // never sends a frame back out of its in_port, so steering a port to itself drops its frames.
            var actions = outPorts.All(p => p == inPort) ? "drop" : string.Join(',', outPorts.Select(p => string.Create(CultureInfo.InvariantCulture, $"output:{p}")));
            var flow = string.Create(CultureInfo.InvariantCulture, $"priority={SteeringPriority},in_port={inPort},actions={actions}");
            await _ctl.OfctlAsync(["add-flow", OfctlTarget, flow], cancellationToken);
            Log.Steered(_logger, from, inPort, string.Join(", ", to), actions, Bridge);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task ClearSteeringAsync(string fromPort, CancellationToken cancellationToken = default)
    {
        var from = OvsName.Validate(fromPort, "port");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotRunning();
            var inPort = await OpenFlowPortAsync(from, cancellationToken);
            var match = string.Create(CultureInfo.InvariantCulture, $"priority={SteeringPriority},in_port={inPort}");
            await _ctl.OfctlAsync(["--strict", "del-flows", OfctlTarget, match], cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task SteerAsync(ulong cookie, IReadOnlyList<SteeringRule> rules, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var validated = rules.Select(r => r with
        {
            FromPort = OvsName.Validate(r.FromPort, "port"),
            ToPorts = r.ToPorts.Select(p => OvsName.Validate(p, "port")).Distinct(StringComparer.Ordinal).ToList(),
        }).ToList();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotRunning();
            var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var rule in validated)
            {
                var inPort = await CachedOpenFlowPortAsync(rule.FromPort, numbers, cancellationToken);
                var outPorts = new List<int>();
                foreach (var port in rule.ToPorts)
                {
                    outPorts.Add(await CachedOpenFlowPortAsync(port, numbers, cancellationToken));
                }

                var flow = SteeringFlow(cookie, rule, inPort, outPorts);
                await _ctl.OfctlAsync(["add-flow", OfctlTarget, flow], cancellationToken);
                Log.Steered(_logger, rule.FromPort, inPort, string.Join(", ", rule.ToPorts), flow, Bridge);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RemoveSteeringAsync(ulong cookie, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotRunning();
            await _ctl.OfctlAsync(["del-flows", OfctlTarget, string.Create(CultureInfo.InvariantCulture, $"cookie=0x{cookie:x}/-1")], cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<IReadOnlyDictionary<string, string>> GetInterfaceStatusAsync(string port, CancellationToken cancellationToken = default) =>
        GetInterfaceMapAsync(port, "status", cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> GetInterfaceStatisticsAsync(string port, CancellationToken cancellationToken = default) =>
        GetInterfaceMapAsync(port, "statistics", cancellationToken);

    private async Task<IReadOnlyDictionary<string, string>> GetInterfaceMapAsync(string port, string column, CancellationToken cancellationToken)
    {
        var name = OvsName.Validate(port, "port");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotRunning();
            var output = (await _ctl.VsctlAsync(["--no-wait", "get", "Interface", name, column], cancellationToken)).Trim();
            return OvsCtl.ParseMap(output);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RemovePortAsync(string port, CancellationToken cancellationToken = default)
    {
        var name = OvsName.Validate(port, "port");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotRunning();
            await _ctl.VsctlAsync(["--if-exists", "del-port", Bridge, name], cancellationToken);
            Log.PortRemoved(_logger, name, Bridge);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<string>> ListPortsAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotRunning();
            var output = await _ctl.VsctlAsync(["--no-wait", "list-ports", Bridge], cancellationToken);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(p => p != MempoolKeeperPort).ToList();
        }
        finally
        {
            _gate.Release();
        }
    }

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

            if (!system && (_ovsdb is not { HasExited: false } || _vswitchd is not { HasExited: false }))
            {
                var dead = _ovsdb is not { HasExited: false } ? OvsdbServerName : VswitchdName;
                return new OvsSwitchStatus(false, false, false, null, Bridge, $"{dead} is not running");
            }

            var output = await _ctl.VsctlAsync(["--no-wait", "get", "Open_vSwitch", ".", "dpdk_initialized", "dpdk_version"], cancellationToken);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var initialized = lines.Length > 0 && lines[0] == "true";
            var version = lines.Length > 1 && lines[1] != "[]" ? lines[1].Trim('"') : null;
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

            if (_ovsdb is null && _vswitchd is null)
            {
                return;
            }

            if (_vswitchd is { HasExited: false } && _ovsdb is { HasExited: false })
            {
                try
                {
                    await _ctl.VsctlAsync(["--if-exists", "del-br", Bridge], cancellationToken);
                }
                catch (OvsCommandException ex)
                {
                    Log.CleanupFailed(_logger, $"bridge {Bridge}", ex.Message);
                }
            }

            await StopDaemonAsync(_vswitchd, cancellationToken);
            await StopDaemonAsync(_ovsdb, cancellationToken);
            await DeleteLeftoverTapAsync(cancellationToken);
            _vswitchd?.Dispose();
            _ovsdb?.Dispose();
            _vswitchd = null;
            _ovsdb = null;
            _ctl.DbTarget = null;
            _systemInstance = null;
            _runDirectoryPrepared = false;
            ClearRunDirectory();
            Log.Stopped(_logger, _options.RunDirectory);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    /// <summary>Kills one of the agent's daemons with SIGKILL, as a crash would: for supervision tests.</summary>
    internal void KillDaemonForTest(string daemon) =>
        (daemon == VswitchdName ? _vswitchd : _ovsdb)?.Kill();

    private async Task<bool> DetectSystemInstanceAsync(CancellationToken cancellationToken)
    {
        if (!_options.UseSystemInstance || !await OvsdbEcho.AnswersAsync(_options.SystemDbSocket, SystemProbeTimeout, _timeProvider, cancellationToken))
        {
            return false;
        }

        _ctl.DbTarget = "unix:" + _options.SystemDbSocket;

        // The system OVS puts vhost-user sockets in its own run directory, or vhost-sock-dir below it.
        var systemRunDirectory = Path.GetDirectoryName(_options.SystemDbSocket)!;
        var sockDir = (await _ctl.VsctlAsync(["--no-wait", "--if-exists", "get", "Open_vSwitch", ".", "other_config:vhost-sock-dir"], cancellationToken)).Trim().Trim('"');
        VhostUserSocketDirectory = sockDir.Length == 0 ? systemRunDirectory : Path.GetFullPath(Path.Combine(systemRunDirectory, sockDir));
        Log.UsingSystemInstance(_logger, _options.SystemDbSocket, VhostUserSocketDirectory);
        return true;
    }

    /// <summary>
    /// Makes the run directory the agent's alone: daemons a crashed earlier agent left behind are killed
    /// (they would hold the database lock and the hugepages) and their files removed, so every agent
    /// run starts from an empty database.
    /// </summary>
    private async Task PrepareRunDirectoryAsync(CancellationToken cancellationToken)
    {
        const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("OVS-DPDK runs on Linux hosts only.");
        }

        Directory.CreateDirectory(_options.RunDirectory, Mode);
        Directory.CreateDirectory(_options.LogDirectory, Mode);
        foreach (var daemon in new[] { OvsdbServerName, VswitchdName })
        {
            await KillStaleDaemonAsync(Path.Combine(_options.RunDirectory, daemon + ".pid"), daemon, cancellationToken);
        }

        ClearRunDirectory();
    }

    private async Task KillStaleDaemonAsync(string pidFile, string daemon, CancellationToken cancellationToken)
    {
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }

        // The pid may have been reused: only a process whose command line names this run directory is ours.
        string commandLine;
        try
        {
            commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        if (!commandLine.Contains(_options.RunDirectory, StringComparison.Ordinal))
        {
            return;
        }

        Log.KillingStaleDaemon(_logger, daemon, pid, _options.RunDirectory);
        try
        {
            using var stale = Process.GetProcessById(pid);
            stale.Kill();
            await stale.WaitForExitAsync(cancellationToken).WaitAsync(_options.StopTimeout, _timeProvider, cancellationToken);
        }
        catch (ArgumentException)
        {
            // Gone already.
        }
    }

    private async Task StartOvsdbServerAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(DbFile))
        {
            var create = await _ctl.RunAsync(_options.OvsdbToolBinary, ["create", DbFile, _options.SchemaPath], cancellationToken);
            if (!create.Succeeded)
            {
                throw new OvsCommandException($"ovsdb-tool could not create {DbFile}: {create.Error.Trim()}");
            }
        }

        File.Delete(DbSocket);
        var daemon = StartDaemon(OvsdbServerName, _options.OvsdbServerBinary, [DbFile, $"--remote=punix:{DbSocket}"]);
        _ovsdb = daemon;
        _ctl.DbTarget = "unix:" + DbSocket;

        // `init` creates the Open_vSwitch row on a fresh database and is a no-op later; it is also the
        // first request that proves the server answers.
        var started = _timeProvider.GetTimestamp();
        while (true)
        {
            ThrowIfExitedDuringStart(daemon);
            if (File.Exists(DbSocket))
            {
                var init = await _ctl.RunVsctlAsync(["--no-wait", "init"], cancellationToken);
                if (init.Succeeded)
                {
                    break;
                }
            }

            if (_timeProvider.GetElapsedTime(started) > _options.StartTimeout)
            {
                throw new OvsCommandException($"ovsdb-server did not answer on {DbSocket} within {_options.StartTimeout}: {daemon.ReadLogTail()}");
            }

            await Task.WhenAny(daemon.Exited, Task.Delay(PollInterval, _timeProvider, cancellationToken));
        }

        // DPDK reads these once, when ovs-vswitchd initialises it: they must be in the database first.
        await _ctl.VsctlAsync(
            [
                "--no-wait", "set", "Open_vSwitch", ".",
                "other_config:dpdk-init=true",
                $"other_config:dpdk-lcore-mask={OvsCtl.Quote(_options.DpdkLcoreMask)}",
                $"other_config:pmd-cpu-mask={OvsCtl.Quote(_options.PmdCpuMask)}",
                $"other_config:pmd-maxsleep={_options.PmdMaxSleepMicroseconds.ToString(CultureInfo.InvariantCulture)}",
                $"other_config:dpdk-socket-mem={OvsCtl.Quote(_options.DpdkSocketMem)}",
                $"other_config:dpdk-socket-limit={OvsCtl.Quote(_options.EffectiveDpdkSocketLimit)}",
                $"other_config:dpdk-extra={OvsCtl.Quote(DpdkExtra())}",
            ],
            cancellationToken);
        Log.DaemonStarted(_logger, OvsdbServerName, daemon.Pid, _options.RunDirectory);
    }

    private async Task StartVswitchdAsync(bool restarting, CancellationToken cancellationToken)
    {
        if (restarting)
        {
            // A killed ovs-vswitchd leaves its dpdkvhostuser sockets behind, and DPDK will not bind over
            // them. Client-mode sockets belong to QEMU, and ovsdb-server's files to a live ovsdb-server: both stay.
            foreach (var leftover in new[] { VswitchdName + ".pid", VswitchdName + ".ctl", Bridge + ".mgmt", Bridge + ".snoop" })
            {
                File.Delete(Path.Combine(_options.RunDirectory, leftover));
            }

            var serverPorts = await _ctl.VsctlAsync(["--no-wait", "--bare", "--columns=name", "find", "Interface", "type=dpdkvhostuser"], cancellationToken);
            foreach (var port in serverPorts.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(OvsName.IsValid))
            {
                File.Delete(Path.Combine(_options.RunDirectory, port));
            }
        }

        // A dead ovs-vswitchd's dpdk_initialized=true and cur_cfg stay in the database. Reset, they tell
        // when the new one has initialised DPDK and applied the whole configuration (bridge, ports);
        // ovs-vsctl's own wait does not help here because re-adding an existing bridge changes nothing.
        await _ctl.VsctlAsync(["--no-wait", "set", "Open_vSwitch", ".", "dpdk_initialized=false", "cur_cfg=0"], cancellationToken);
        if (DpdkDrivers.MissingMempoolDriver() is { } missing)
        {
            throw new OvsCommandException($"ovs-vswitchd not started: {missing}.");
        }

        // `ip netns exec` enters the namespace and execs ovs-vswitchd in place: the pid stays the daemon's.
        var daemon = _options.NetworkNamespace.Length == 0
            ? StartDaemon(VswitchdName, _options.VswitchdBinary, [_ctl.DbTarget!], VswitchdEnvironment())
            : StartDaemon(VswitchdName, "ip", ["netns", "exec", _options.NetworkNamespace, _options.VswitchdBinary, _ctl.DbTarget!], VswitchdEnvironment());
        _vswitchd = daemon;
        var started = _timeProvider.GetTimestamp();
        while (true)
        {
            ThrowIfExitedDuringStart(daemon);
            var state = await _ctl.RunVsctlAsync(["--no-wait", "get", "Open_vSwitch", ".", "dpdk_initialized", "cur_cfg", "next_cfg"], cancellationToken);
            var values = state.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (state.Succeeded && values is ["true", var current, var next] && current == next)
            {
                break;
            }

            if (_timeProvider.GetElapsedTime(started) > _options.DpdkInitTimeout)
            {
                throw new OvsCommandException($"DPDK did not initialise within {_options.DpdkInitTimeout} (are hugepages reserved and hugetlbfs mounted? see scripts/hugepages.sh): {daemon.ReadLogTail()}");
            }

            await Task.WhenAny(daemon.Exited, Task.Delay(PollInterval, _timeProvider, cancellationToken));
        }

        DpdkInitTime = _timeProvider.GetElapsedTime(started);
        Log.DaemonStarted(_logger, VswitchdName, daemon.Pid, _options.RunDirectory);
        Log.DpdkInitialized(_logger, DpdkInitTime.Value.TotalMilliseconds, DpdkExtra());
    }

    /// <summary>
    /// ovs-vswitchd writes into the RAM of every guest with vhost-user ports (received frames, used rings):
    /// it starts with the preload library that gives it a userfaultfd the native transport can track it by.
    /// </summary>
    private Dictionary<string, string?> VswitchdEnvironment()
    {
        var environment = new Dictionary<string, string?>(_ctl.Environment, StringComparer.Ordinal);
        Qemu.DirtyTrackerPreload.Apply(environment, _options.PreloadDirtyTracker);
        return environment;
    }

    private OvsDaemon StartDaemon(string name, string binary, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var logFile = Path.Combine(_options.LogDirectory, name + ".log");
        var daemon = OvsDaemon.Start(
            name,
            binary,
            arguments.Concat(
            [
                $"--pidfile={Path.Combine(_options.RunDirectory, name + ".pid")}",
                $"--unixctl={Path.Combine(_options.RunDirectory, name + ".ctl")}",
                $"--log-file={logFile}",

                // The log file has everything; the console (captured to .out) only what may come before it opens.
                "-vconsole:err",
            ]),
            environment ?? _ctl.Environment,
            _options.RunDirectory,
            logFile,
            Path.Combine(_options.LogDirectory, name + ".out"));
        _ = WatchAsync(daemon);
        return daemon;
    }

    private async Task WatchAsync(OvsDaemon daemon)
    {
        var code = await daemon.Exited;
        if (daemon.StopRequested)
        {
            return;
        }

        var exit = new OvsDaemonExit(daemon.Name, daemon.Pid, code, daemon.ReadLogTail());
        Log.DaemonExitedUnexpectedly(_logger, daemon.Name, daemon.Pid, code);
        Volatile.Read(ref _unexpectedExit).TrySetResult(exit);
    }

    private async Task StopDaemonAsync(OvsDaemon? daemon, CancellationToken cancellationToken)
    {
        if (daemon is null)
        {
            return;
        }

        daemon.MarkStopRequested();
        if (!daemon.HasExited)
        {
            // `exit` lets ovs-vswitchd release DPDK and remove its sockets; a kill is the fallback.
            var control = Path.Combine(_options.RunDirectory, daemon.Name + ".ctl");
            try
            {
                await _ctl.RunAppctlAsync(control, ["exit"], cancellationToken);
                await daemon.Exited.WaitAsync(_options.StopTimeout, _timeProvider, cancellationToken);
            }
            catch (Exception ex) when (ex is OvsCommandException or TimeoutException)
            {
                Log.CleanupFailed(_logger, daemon.Name, $"did not exit when asked ({ex.Message}); killing it");
                daemon.Kill();
                await daemon.Exited.WaitAsync(cancellationToken);
            }
        }

        Log.DaemonStopped(_logger, daemon.Name, daemon.Pid, await daemon.Exited);
    }

    /// <summary>
    /// A netdev bridge's tap device outlives ovs-vswitchd. When ovs-vswitchd died before it could
    /// remove the bridge, the agent removes the device itself.
    /// </summary>
    private async Task DeleteLeftoverTapAsync(CancellationToken cancellationToken)
    {
        string[] namespaceArguments = _options.NetworkNamespace.Length == 0 ? [] : ["-n", _options.NetworkNamespace];
        try
        {
            var show = await _ctl.RunAsync("ip", [.. namespaceArguments, "link", "show", "dev", Bridge], cancellationToken);
            if (!show.Succeeded)
            {
                return;
            }

            var delete = await _ctl.RunAsync("ip", [.. namespaceArguments, "link", "delete", "dev", Bridge], cancellationToken);
            if (!delete.Succeeded)
            {
                Log.CleanupFailed(_logger, $"tap device {Bridge}", delete.Error.Trim());
            }
        }
        catch (OvsCommandException ex)
        {
            Log.CleanupFailed(_logger, $"tap device {Bridge}", ex.Message);
        }
    }

    /// <summary>
    /// Removes OVS's files from the run directory: the database and its lock, sockets, pid and control
    /// files, and vhost-user sockets (files named like ports). Only names OVS or the agent create are
    /// touched, so a misconfigured run directory cannot cost anyone else's files; logs stay.
    /// </summary>
    private void ClearRunDirectory()
    {
        if (!Directory.Exists(_options.RunDirectory))
        {
            return;
        }

        foreach (var path in Directory.EnumerateFiles(_options.RunDirectory))
        {
            var name = Path.GetFileName(path);
            var ovsFile = name is "conf.db" or ".conf.db.~lock~" or "db.sock" || OvsName.IsValid(name);
            var runtimeFile = name.EndsWith(".pid", StringComparison.Ordinal) || name.EndsWith(".ctl", StringComparison.Ordinal)
                || name.EndsWith(".mgmt", StringComparison.Ordinal) || name.EndsWith(".snoop", StringComparison.Ordinal);
            if (ovsFile || runtimeFile)
            {
                try
                {
                    File.Delete(path);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    Log.CleanupFailed(_logger, path, ex.Message);
                }
            }
        }
    }

    private async Task<int> AddKernelPortAsync(string name, IReadOnlyList<string> settings, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotRunning();
            await _ctl.VsctlAsync(["--may-exist", "add-port", Bridge, name, "--", "set", "Interface", name, .. settings], cancellationToken);
            var state = await _ctl.VsctlAsync(["--no-wait", "get", "Interface", name, "ofport", "error"], cancellationToken);
            var lines = state.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var ofport = lines.Length > 0 && int.TryParse(lines[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : -1;
            var error = lines.Length > 1 && lines[1] != "[]" ? lines[1] : null;
            if (ofport <= 0 || error is not null)
            {
                // A refused port stays in the database with ofport -1; it must not be mistaken for one later.
                await _ctl.VsctlAsync(["--if-exists", "del-port", Bridge, name], cancellationToken);
                throw new OvsCommandException($"OVS did not accept port {name} ({string.Join(' ', settings)}, ofport {ofport}): {error ?? "no error given"}");
            }

            Log.KernelPortAdded(_logger, name, Bridge, string.Join(' ', settings), ofport);
            return ofport;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The flow text of one rule: numbers, not names (all read back from OVS for validated names), and a MAC
    /// and EtherType only from typed values. OpenFlow never sends a frame back out of its in_port, so a rule
    /// whose only output is its own port drops too.
    /// </summary>
    private static string SteeringFlow(ulong cookie, SteeringRule rule, int inPort, IReadOnlyList<int> outPorts)
    {
        var priority = rule.Fallback ? SteeringPriority - 100 : SteeringPriority + (rule.FromAddress is null ? 0 : 2) + (rule.EtherType is null ? 0 : 1);
        var match = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"cookie=0x{cookie:x},priority={priority},in_port={inPort}"));
        if (rule.FromAddress is { } address)
        {
            match.Append(",dl_src=").Append(string.Join(':', address.GetAddressBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture))));
        }

        if (rule.EtherType is { } etherType)
        {
            match.Append(string.Create(CultureInfo.InvariantCulture, $",dl_type=0x{etherType:x4}"));
        }

        var actions = outPorts.All(p => p == inPort) ? "drop" : string.Join(',', outPorts.Select(p => string.Create(CultureInfo.InvariantCulture, $"output:{p}")));
        return match.Append(",actions=").Append(actions).ToString();
    }

    private async Task<int> CachedOpenFlowPortAsync(string name, Dictionary<string, int> known, CancellationToken cancellationToken)
    {
        if (!known.TryGetValue(name, out var number))
        {
            number = await OpenFlowPortAsync(name, cancellationToken);
            known[name] = number;
        }

        return number;
    }

    private async Task<int> OpenFlowPortAsync(string name, CancellationToken cancellationToken)
    {
        var result = await _ctl.RunVsctlAsync(["--no-wait", "get", "Interface", name, "ofport"], cancellationToken);
        if (!result.Succeeded || !int.TryParse(result.Output.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ofport) || ofport <= 0)
        {
            throw new OvsCommandException($"Port {name} is not on bridge {Bridge} with an OpenFlow number: {(result.Error.Trim().Length > 0 ? result.Error.Trim() : result.Output.Trim())}");
        }

        return ofport;
    }

    /// <summary>ovs-vswitchd's OpenFlow management socket of the bridge, beside its database socket.</summary>
    private string OfctlTarget =>
        "unix:" + Path.Combine(_systemInstance == true ? Path.GetDirectoryName(_options.SystemDbSocket)! : _options.RunDirectory, Bridge + ".mgmt");

    private async Task EnsureBridgeAsync(CancellationToken cancellationToken)
    {
        await _ctl.VsctlAsync(["--may-exist", "add-br", Bridge, "--", "set", "Bridge", Bridge, "datapath_type=netdev"], cancellationToken);

        // ovs-vsctl succeeds even when ovs-vswitchd could not open the datapath; the bridge's own
        // interface only gets the LOCAL port number when it did.
        var state = await _ctl.VsctlAsync(["--no-wait", "get", "Interface", Bridge, "ofport", "error"], cancellationToken);
        var lines = state.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines is not ["65534", "[]"])
        {
            throw new OvsCommandException(
                $"OVS did not create bridge {Bridge} ({string.Join(", ", lines)}). The userspace datapath needs the tap device " +
                $"'ovs-netdev', of which a network namespace has one: is another OVS-DPDK switch running in this namespace? " +
                (_vswitchd?.ReadLogTail(800) ?? string.Empty));
        }

        if (_systemInstance != true && _options.MempoolKeeper)
        {
            await EnsureMempoolKeeperAsync(cancellationToken);
        }

        Log.BridgeReady(_logger, Bridge);
    }

    /// <summary>Adds (or keeps) <see cref="MempoolKeeperPort"/>; its first start is when OVS creates the mempool.</summary>
    private async Task EnsureMempoolKeeperAsync(CancellationToken cancellationToken)
    {
        await _ctl.VsctlAsync(
            ["--may-exist", "add-port", Bridge, MempoolKeeperPort, "--", "set", "Interface", MempoolKeeperPort, "type=dpdk", "options:dpdk-devargs=net_null0,no-rx=1"],
            cancellationToken);
        var state = await _ctl.VsctlAsync(["--no-wait", "get", "Interface", MempoolKeeperPort, "ofport", "error"], cancellationToken);
        var lines = state.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines is not [var ofport, "[]"] || !int.TryParse(ofport, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            throw new OvsCommandException(
                $"OVS could not add {MempoolKeeperPort}, the null-driver port that keeps its packet mempool ({string.Join(", ", lines)}); " +
                "is DPDK's null driver installed (Debian package librte-net-null23, from scripts/install-deps.sh)? Ovs:MempoolKeeper=false runs without it, " +
                "at the cost of creating the mempool inside migrations' network gaps.");
        }
    }

    private void ThrowIfNotRunning()
    {
        if (_ctl.DbTarget is null)
        {
            throw new InvalidOperationException("The OVS switch is not started; call EnsureStartedAsync first.");
        }

        foreach (var daemon in new[] { _ovsdb, _vswitchd })
        {
            if (daemon is { HasExited: true })
            {
                throw new OvsCommandException($"{daemon.Name} (pid {daemon.Pid}) is not running; EnsureStartedAsync restarts it. {daemon.ReadLogTail(500)}");
            }
        }
    }

    private static void ThrowIfExitedDuringStart(OvsDaemon daemon)
    {
        if (daemon.HasExited)
        {
            throw new OvsCommandException($"{daemon.Name} exited with code {daemon.Exited.Result} during start: {daemon.ReadLogTail()}");
        }
    }

    private string DpdkExtra()
    {
        var noPci = _options.DpdkNoPci ?? !DpdkNicProbe.AnyBound();
        var arguments = new List<string>();
        if (noPci)
        {
            arguments.Add("--no-pci");
        }

        if (_options.DpdkInMemory)
        {
            arguments.Add("--in-memory");
        }

        if (_options.DpdkExtraArguments.Length > 0)
        {
            arguments.Add(_options.DpdkExtraArguments);
        }

        return string.Join(' ', arguments);
    }

    private static TaskCompletionSource<OvsDaemonExit> NewExitSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3400, Level = LogLevel.Information, Message = "{Daemon} started (pid {Pid}) in {RunDirectory}")]
        public static partial void DaemonStarted(ILogger logger, string daemon, int pid, string runDirectory);

        [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "DPDK initialised in {Milliseconds:F0} ms (dpdk-extra '{DpdkExtra}')")]
        public static partial void DpdkInitialized(ILogger logger, double milliseconds, string dpdkExtra);

        [LoggerMessage(EventId = 3402, Level = LogLevel.Information, Message = "Bridge {Bridge} ready (datapath_type=netdev)")]
        public static partial void BridgeReady(ILogger logger, string bridge);

        [LoggerMessage(EventId = 3403, Level = LogLevel.Information, Message = "Using the host's OVS at {DbSocket}; vhost-user sockets in {SocketDirectory}")]
        public static partial void UsingSystemInstance(ILogger logger, string dbSocket, string socketDirectory);

        [LoggerMessage(EventId = 3404, Level = LogLevel.Information, Message = "Port {Port} on {Bridge} ({Mode}, socket {Socket}, ofport {OpenFlowPort})")]
        public static partial void PortAdded(ILogger logger, string port, string bridge, VhostUserMode mode, string socket, int openFlowPort);

        [LoggerMessage(EventId = 3411, Level = LogLevel.Information, Message = "Port {Port} on {Bridge} ({Settings}, ofport {OpenFlowPort})")]
        public static partial void KernelPortAdded(ILogger logger, string port, string bridge, string settings, int openFlowPort);

        [LoggerMessage(EventId = 3412, Level = LogLevel.Information, Message = "Frames entering {From} (ofport {FromPort}) are steered to {To} ({Actions}) on {Bridge}")]
        public static partial void Steered(ILogger logger, string from, int fromPort, string to, string actions, string bridge);

        [LoggerMessage(EventId = 3405, Level = LogLevel.Information, Message = "Port {Port} removed from {Bridge}")]
        public static partial void PortRemoved(ILogger logger, string port, string bridge);

        [LoggerMessage(EventId = 3406, Level = LogLevel.Error, Message = "{Daemon} (pid {Pid}) exited on its own with code {ExitCode}")]
        public static partial void DaemonExitedUnexpectedly(ILogger logger, string daemon, int pid, int exitCode);

        [LoggerMessage(EventId = 3407, Level = LogLevel.Information, Message = "{Daemon} (pid {Pid}) stopped with exit code {ExitCode}")]
        public static partial void DaemonStopped(ILogger logger, string daemon, int pid, int exitCode);

        [LoggerMessage(EventId = 3408, Level = LogLevel.Warning, Message = "Killing {Daemon} (pid {Pid}) left in {RunDirectory} by an earlier agent")]
        public static partial void KillingStaleDaemon(ILogger logger, string daemon, int pid, string runDirectory);

        [LoggerMessage(EventId = 3409, Level = LogLevel.Warning, Message = "Cleanup of {What} failed: {Reason}")]
        public static partial void CleanupFailed(ILogger logger, string what, string reason);

        [LoggerMessage(EventId = 3410, Level = LogLevel.Information, Message = "OVS stopped; run directory {RunDirectory} cleared")]
        public static partial void Stopped(ILogger logger, string runDirectory);
    }
}
