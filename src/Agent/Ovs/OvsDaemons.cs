using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Ovs;

/// <summary>
/// The agent's own ovsdb-server and ovs-vswitchd and their run directory: made the agent's alone (daemons
/// an earlier agent left are killed), each daemon started and waited for until it answers (ovs-vswitchd
/// until DPDK is initialised), watched for an exit nobody asked for, restarted when it died, and stopped
/// with <c>ovs-appctl exit</c> (a kill when it does not go), leaving no files or tap device behind. Not
/// used for the host's OVS, which is not the agent's to start or stop. <see cref="OvsSwitch"/> serialises the calls.
/// </summary>
internal sealed partial class OvsDaemons(OvsOptions options, OvsCtl ctl, OvsdbSettings settings, string bridge, TimeProvider timeProvider, ILogger logger)
{
    public const string OvsdbServerName = "ovsdb-server";
    public const string VswitchdName = "ovs-vswitchd";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private TaskCompletionSource<OvsDaemonExit> _unexpectedExit = NewExitSource();
    private bool _runDirectoryPrepared;

    /// <summary>Completes when a daemon started since the last <see cref="EnsureRunningAsync"/> exits without being asked to.</summary>
    public Task<OvsDaemonExit> UnexpectedExit => Volatile.Read(ref _unexpectedExit).Task;

    public OvsDaemon? Ovsdb { get; private set; }

    public OvsDaemon? Vswitchd { get; private set; }

    /// <summary>From starting ovs-vswitchd to <c>dpdk_initialized=true</c>, the last time it was started.</summary>
    public TimeSpan? DpdkInitTime { get; private set; }

    /// <summary>The name of a daemon that is not running (never started, or exited); null when both run.</summary>
    public string? NotRunning =>
        Ovsdb is not { HasExited: false } ? OvsdbServerName
        : Vswitchd is not { HasExited: false } ? VswitchdName
        : null;

    private string DbFile => Path.Combine(options.RunDirectory, "conf.db");

    private string DbSocket => Path.Combine(options.RunDirectory, "db.sock");

    /// <summary>
    /// Starts whichever daemon is not running (both at first), in a run directory prepared once per
    /// start-to-stop life. ovs-vswitchd restarted beside a live ovsdb-server finds its configuration
    /// (bridge, ports) in the database.
    /// </summary>
    public async Task EnsureRunningAsync(CancellationToken cancellationToken)
    {
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

        var restarting = Ovsdb is not null || Vswitchd is not null;
        if (Ovsdb is null || Ovsdb.HasExited)
        {
            await StartOvsdbServerAsync(cancellationToken);
        }

        if (Vswitchd is null || Vswitchd.HasExited)
        {
            await StartVswitchdAsync(restarting, cancellationToken);
        }
    }

    /// <summary>
    /// Removes the bridge while both daemons run (its tap device goes with it), stops ovs-vswitchd, then
    /// ovsdb-server, removes a tap device a dead ovs-vswitchd left, and clears the run directory. Nothing
    /// when no daemon was started.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Ovsdb is null && Vswitchd is null)
        {
            return;
        }

        if (Vswitchd is { HasExited: false } && Ovsdb is { HasExited: false })
        {
            try
            {
                await ctl.VsctlAsync(["--if-exists", "del-br", bridge], cancellationToken);
            }
            catch (OvsCommandException ex)
            {
                Log.CleanupFailed(logger, $"bridge {bridge}", ex.Message);
            }
        }

        await StopDaemonAsync(Vswitchd, cancellationToken);
        await StopDaemonAsync(Ovsdb, cancellationToken);
        await DeleteLeftoverTapAsync(cancellationToken);
        Vswitchd?.Dispose();
        Ovsdb?.Dispose();
        Vswitchd = null;
        Ovsdb = null;
        ctl.DbTarget = null;
        _runDirectoryPrepared = false;
        ClearRunDirectory();
        Log.Stopped(logger, options.RunDirectory);
    }

    /// <summary>An <see cref="OvsCommandException"/> when a daemon that was started is no longer running.</summary>
    public void ThrowIfExited()
    {
        foreach (var daemon in new[] { Ovsdb, Vswitchd })
        {
            if (daemon is { HasExited: true })
            {
                throw new OvsCommandException($"{daemon.Name} (pid {daemon.Pid}) is not running; EnsureStartedAsync restarts it. {daemon.ReadLogTail(500)}");
            }
        }
    }

    /// <summary>Kills one daemon with SIGKILL, as a crash would: for supervision tests.</summary>
    public void Kill(string daemon) =>
        (daemon == VswitchdName ? Vswitchd : Ovsdb)?.Kill();

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

        Directory.CreateDirectory(options.RunDirectory, Mode);
        Directory.CreateDirectory(options.LogDirectory, Mode);
        foreach (var daemon in new[] { OvsdbServerName, VswitchdName })
        {
            await KillStaleDaemonAsync(Path.Combine(options.RunDirectory, daemon + ".pid"), daemon, cancellationToken);
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

        if (!commandLine.Contains(options.RunDirectory, StringComparison.Ordinal))
        {
            return;
        }

        Log.KillingStaleDaemon(logger, daemon, pid, options.RunDirectory);
        try
        {
            using var stale = Process.GetProcessById(pid);
            stale.Kill();
            await stale.WaitForExitAsync(cancellationToken).WaitAsync(options.StopTimeout, timeProvider, cancellationToken);
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
            var create = await ctl.RunAsync(options.OvsdbToolBinary, ["create", DbFile, options.SchemaPath], cancellationToken);
            if (!create.Succeeded)
            {
                throw new OvsCommandException($"ovsdb-tool could not create {DbFile}: {create.Error.Trim()}");
            }
        }

        File.Delete(DbSocket);
        var daemon = StartDaemon(OvsdbServerName, options.OvsdbServerBinary, [DbFile, $"--remote=punix:{DbSocket}"]);
        Ovsdb = daemon;
        ctl.DbTarget = "unix:" + DbSocket;

        // `init` is the first request that proves the server answers.
        var started = timeProvider.GetTimestamp();
        while (true)
        {
            ThrowIfExitedDuringStart(daemon);
            if (File.Exists(DbSocket) && await settings.TryInitAsync(cancellationToken))
            {
                break;
            }

            if (timeProvider.GetElapsedTime(started) > options.StartTimeout)
            {
                throw new OvsCommandException($"ovsdb-server did not answer on {DbSocket} within {options.StartTimeout}: {daemon.ReadLogTail()}");
            }

            await Task.WhenAny(daemon.Exited, Task.Delay(PollInterval, timeProvider, cancellationToken));
        }

        await settings.ApplyDpdkSettingsAsync(cancellationToken);
        Log.DaemonStarted(logger, OvsdbServerName, daemon.Pid, options.RunDirectory);
    }

    private async Task StartVswitchdAsync(bool restarting, CancellationToken cancellationToken)
    {
        if (restarting)
        {
            // A killed ovs-vswitchd leaves its dpdkvhostuser sockets behind, and DPDK will not bind over
            // them. Client-mode sockets belong to QEMU, and ovsdb-server's files to a live ovsdb-server: both stay.
            foreach (var leftover in new[] { VswitchdName + ".pid", VswitchdName + ".ctl", bridge + ".mgmt", bridge + ".snoop" })
            {
                File.Delete(Path.Combine(options.RunDirectory, leftover));
            }

            var serverPorts = await ctl.VsctlAsync(["--no-wait", "--bare", "--columns=name", "find", "Interface", "type=dpdkvhostuser"], cancellationToken);
            foreach (var port in OvsCtl.Lines(serverPorts).Where(OvsName.IsValid))
            {
                File.Delete(Path.Combine(options.RunDirectory, port));
            }
        }

        await settings.ResetVswitchdProgressAsync(cancellationToken);
        if (DpdkDrivers.MissingMempoolDriver() is { } missing)
        {
            throw new OvsCommandException($"ovs-vswitchd not started: {missing}.");
        }

        // `ip netns exec` enters the namespace and execs ovs-vswitchd in place: the pid stays the daemon's.
        var daemon = options.NetworkNamespace.Length == 0
            ? StartDaemon(VswitchdName, options.VswitchdBinary, [ctl.DbTarget!], VswitchdEnvironment())
            : StartDaemon(VswitchdName, "ip", ["netns", "exec", options.NetworkNamespace, options.VswitchdBinary, ctl.DbTarget!], VswitchdEnvironment());
        Vswitchd = daemon;
        var started = timeProvider.GetTimestamp();
        while (true)
        {
            ThrowIfExitedDuringStart(daemon);
            if (await settings.IsVswitchdReadyAsync(cancellationToken))
            {
                break;
            }

            if (timeProvider.GetElapsedTime(started) > options.DpdkInitTimeout)
            {
                throw new OvsCommandException($"DPDK did not initialise within {options.DpdkInitTimeout} (are hugepages reserved and hugetlbfs mounted? see scripts/hugepages.sh): {daemon.ReadLogTail()}");
            }

            await Task.WhenAny(daemon.Exited, Task.Delay(PollInterval, timeProvider, cancellationToken));
        }

        DpdkInitTime = timeProvider.GetElapsedTime(started);
        Log.DaemonStarted(logger, VswitchdName, daemon.Pid, options.RunDirectory);
        Log.DpdkInitialized(logger, DpdkInitTime.Value.TotalMilliseconds, settings.DpdkExtra());
    }

    /// <summary>
    /// ovs-vswitchd writes into the RAM of every guest with vhost-user ports (received frames, used rings):
    /// it starts with the preload library that gives it a userfaultfd the native transport can track it by.
    /// </summary>
    private Dictionary<string, string?> VswitchdEnvironment()
    {
        var environment = new Dictionary<string, string?>(ctl.Environment, StringComparer.Ordinal);
        Qemu.DirtyTrackerPreload.Apply(environment, options.PreloadDirtyTracker);
        return environment;
    }

    private OvsDaemon StartDaemon(string name, string binary, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var logFile = Path.Combine(options.LogDirectory, name + ".log");
        var daemon = OvsDaemon.Start(
            name,
            binary,
            arguments.Concat(
            [
                $"--pidfile={Path.Combine(options.RunDirectory, name + ".pid")}",
                $"--unixctl={Path.Combine(options.RunDirectory, name + ".ctl")}",
                $"--log-file={logFile}",

                // The log file has everything; the console (captured to .out) only what may come before it opens.
                "-vconsole:err",
            ]),
            environment ?? ctl.Environment,
            options.RunDirectory,
            logFile,
            Path.Combine(options.LogDirectory, name + ".out"));
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
        Log.DaemonExitedUnexpectedly(logger, daemon.Name, daemon.Pid, code);
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
            var control = Path.Combine(options.RunDirectory, daemon.Name + ".ctl");
            try
            {
                await ctl.RunAppctlAsync(control, ["exit"], cancellationToken);
                await daemon.Exited.WaitAsync(options.StopTimeout, timeProvider, cancellationToken);
            }
            catch (Exception ex) when (ex is OvsCommandException or TimeoutException)
            {
                Log.CleanupFailed(logger, daemon.Name, $"did not exit when asked ({ex.Message}); killing it");
                daemon.Kill();
                await daemon.Exited.WaitAsync(cancellationToken);
            }
        }

        Log.DaemonStopped(logger, daemon.Name, daemon.Pid, await daemon.Exited);
    }

    /// <summary>
    /// A netdev bridge's tap device outlives ovs-vswitchd. When ovs-vswitchd died before it could
    /// remove the bridge, the agent removes the device itself.
    /// </summary>
    private async Task DeleteLeftoverTapAsync(CancellationToken cancellationToken)
    {
        string[] namespaceArguments = options.NetworkNamespace.Length == 0 ? [] : ["-n", options.NetworkNamespace];
        try
        {
            var show = await ctl.RunAsync("ip", [.. namespaceArguments, "link", "show", "dev", bridge], cancellationToken);
            if (!show.Succeeded)
            {
                return;
            }

            var delete = await ctl.RunAsync("ip", [.. namespaceArguments, "link", "delete", "dev", bridge], cancellationToken);
            if (!delete.Succeeded)
            {
                Log.CleanupFailed(logger, $"tap device {bridge}", delete.Error.Trim());
            }
        }
        catch (OvsCommandException ex)
        {
            Log.CleanupFailed(logger, $"tap device {bridge}", ex.Message);
        }
    }

    /// <summary>
    /// Removes OVS's files from the run directory: the database and its lock, sockets, pid and control
    /// files, and vhost-user sockets (files named like ports). Only names OVS or the agent create are
    /// touched, so a misconfigured run directory cannot cost anyone else's files; logs stay.
    /// </summary>
    private void ClearRunDirectory()
    {
        if (!Directory.Exists(options.RunDirectory))
        {
            return;
        }

        foreach (var path in Directory.EnumerateFiles(options.RunDirectory))
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
                    Log.CleanupFailed(logger, path, ex.Message);
                }
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

    private static TaskCompletionSource<OvsDaemonExit> NewExitSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.OvsDaemonStarted, Level = LogLevel.Information, Message = "{Daemon} started (pid {Pid}) in {RunDirectory}")]
        public static partial void DaemonStarted(ILogger logger, string daemon, int pid, string runDirectory);

        [LoggerMessage(EventId = AgentEventIds.OvsDpdkInitialized, Level = LogLevel.Information, Message = "DPDK initialised in {Milliseconds:F0} ms (dpdk-extra '{DpdkExtra}')")]
        public static partial void DpdkInitialized(ILogger logger, double milliseconds, string dpdkExtra);

        [LoggerMessage(EventId = AgentEventIds.OvsDaemonExitedUnexpectedly, Level = LogLevel.Error, Message = "{Daemon} (pid {Pid}) exited on its own with code {ExitCode}")]
        public static partial void DaemonExitedUnexpectedly(ILogger logger, string daemon, int pid, int exitCode);

        [LoggerMessage(EventId = AgentEventIds.OvsDaemonStopped, Level = LogLevel.Information, Message = "{Daemon} (pid {Pid}) stopped with exit code {ExitCode}")]
        public static partial void DaemonStopped(ILogger logger, string daemon, int pid, int exitCode);

        [LoggerMessage(EventId = AgentEventIds.OvsKillingStaleDaemon, Level = LogLevel.Warning, Message = "Killing {Daemon} (pid {Pid}) left in {RunDirectory} by an earlier agent")]
        public static partial void KillingStaleDaemon(ILogger logger, string daemon, int pid, string runDirectory);

        [LoggerMessage(EventId = AgentEventIds.OvsCleanupFailed, Level = LogLevel.Warning, Message = "Cleanup of {What} failed: {Reason}")]
        public static partial void CleanupFailed(ILogger logger, string what, string reason);

        [LoggerMessage(EventId = AgentEventIds.OvsStopped, Level = LogLevel.Information, Message = "OVS stopped; run directory {RunDirectory} cleared")]
        public static partial void Stopped(ILogger logger, string runDirectory);
    }
}
