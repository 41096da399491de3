using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Transfer.Interop;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Guests;

/// <summary>
/// Runs once when the agent starts, before it serves: sorts out what a previous life of this agent
/// left in its QEMU run directory when it was killed and could not clean up. A migration target
/// still waiting for its migration (QEMU says <c>inmigrate</c>) is garbage — its migration failed
/// with the agent, and nobody will ask it to resume — so it is killed. Anything else that lives is a
/// VM someone may depend on, never killed on a guess: a guest launched here, and equally a target
/// whose migration completed (its command line still says <c>-incoming</c>, but it runs the guest
/// now), or one QEMU does not answer for. Those the agent can take over (their instance record says
/// what they run, their QMP monitor answers) are adopted into the guest registry and reported as
/// running from the first heartbeat; the rest are left alone and reported. Every instance
/// without a live QEMU (a target whose incoming migration failed exits on its own) has its
/// directory, RAM file and vhost-user ports freed, as its cleanup would have.
/// A command line alone proves nothing (any process may name a Ferry socket in its arguments): a
/// process counts as a guest only if it runs the QEMU binary and maps the RAM file its command line
/// names; and it is killed only through a pidfd opened before that check, so a pid recycled
/// meanwhile is never signalled.
/// </summary>
internal sealed partial class OrphanReaper(
    IOptions<QemuLauncherOptions> options,
    GuestPorts ports,
    IQmpConnector qmp,
    ILogger<OrphanReaper> logger,
    IGuestRegistry? guests = null) : IHostedService
{
    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(10);

    /// <summary>How long a QEMU of the previous agent gets to say its run state, per monitor.</summary>
    private static readonly TimeSpan StatusWait = TimeSpan.FromSeconds(5);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var runDirectory = options.Value.RunDirectory;
        if (!Directory.Exists(runDirectory))
        {
            return;
        }

        var qemu = ResolveExecutable(options.Value.QemuBinary);
        var live = Find(runDirectory, qemu).ToDictionary(o => o.Instance, StringComparer.Ordinal);
        foreach (var directory in Directory.GetDirectories(runDirectory))
        {
            var instance = Path.GetFileName(directory);
            if (!ResourceName.IsValid(instance))
            {
                // Not an instance: the migration TLS credentials (migration.tls), or an instance's files for
                // QEMU's user (<instance>.user), which go with their instance below.
                if (directory.EndsWith(QemuInstanceLayout.UserDirectorySuffix, StringComparison.Ordinal)
                    && !Directory.Exists(directory[..^QemuInstanceLayout.UserDirectorySuffix.Length]))
                {
                    DeleteDirectory(directory);
                }

                continue;
            }

            if (live.TryGetValue(instance, out var orphan))
            {
                var status = orphan.Incoming ? await RunStateAsync(directory, cancellationToken) : null;
                if (status != "inmigrate")
                {
                    if (!await TryAdoptAsync(directory, orphan, cancellationToken))
                    {
                        Log.RunningGuestLeft(logger, instance, orphan.Pid, status ?? (orphan.Incoming ? "unknown: QEMU did not answer" : "launched here"));
                    }

                    continue;
                }

                if (!await KillAsync(orphan, qemu, cancellationToken))
                {
                    continue;
                }
            }
            else
            {
                var argumentsFile = Path.Combine(directory, "qemu.args");
                orphan = File.Exists(argumentsFile) ? Parse(0, await File.ReadAllLinesAsync(argumentsFile, cancellationToken)) : null;
            }

            await FreeAsync(directory, instance, orphan);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The live QEMU processes whose main QMP socket lies in an instance directory under
    /// <paramref name="runDirectory"/>, and which are what their command line says (see <see cref="IsGuest"/>).
    /// </summary>
    internal static IReadOnlyList<OrphanedQemu> Find(string runDirectory, string? qemuExecutable = null)
    {
        qemuExecutable ??= ResolveExecutable(new QemuLauncherOptions().QemuBinary);
        var prefix = QmpPrefix + Path.TrimEndingDirectorySeparator(runDirectory) + "/";
        var found = new List<OrphanedQemu>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            string[] argv;
            try
            {
                argv = File.ReadAllText(Path.Combine(entry, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // exited meanwhile, or not ours to read
            }

            if (argv.Any(a => a.StartsWith(prefix, StringComparison.Ordinal)) && Parse(pid, argv) is { } orphan && IsGuest(orphan, qemuExecutable))
            {
                found.Add(orphan);
            }
        }

        return found;
    }

    private const string QmpPrefix = "socket,id=qmp0,path=";
    private const string NicPrefix = "socket,id=char-";

    /// <summary>What matters of a QEMU command line built by <see cref="QemuCommandLine"/>; null when it is not one.</summary>
    internal static OrphanedQemu? Parse(int pid, IReadOnlyList<string> argv)
    {
        if (argv.FirstOrDefault(a => a.StartsWith(QmpPrefix, StringComparison.Ordinal)) is not { } qmp)
        {
            return null;
        }

        var socket = qmp[QmpPrefix.Length..].Split(",server=", 2)[0];
        var instance = Path.GetFileName(Path.GetDirectoryName(socket)) ?? string.Empty;
        var memPath = argv.Select(a => a.Split(",mem-path=", 2)).FirstOrDefault(p => p.Length == 2)?[1].Split(',')[0];
        var nics = argv.Where(a => a.StartsWith(NicPrefix, StringComparison.Ordinal)).Select(a => a[NicPrefix.Length..].Split(',')[0]).ToList();
        return new OrphanedQemu(pid, instance, argv.Contains("-incoming"), memPath, nics);
    }

    /// <summary>
    /// Hands a live guest QEMU to the registry when its instance record agrees with what the process maps;
    /// false when there is no registry, no usable record (an agent before records wrote none) or no answer.
    /// </summary>
    private async Task<bool> TryAdoptAsync(string directory, OrphanedQemu orphan, CancellationToken cancellationToken)
    {
        if (guests is null)
        {
            return false;
        }

        if (QemuInstanceRecord.TryRead(directory) is not { } record || !string.Equals(record.RamFile, orphan.RamFile, StringComparison.Ordinal))
        {
            Log.NoRecord(logger, orphan.Instance, orphan.Pid);
            return false;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(StatusWait);
        try
        {
            // Adopted, or a second copy of a guest already adopted: either way not this reaper's to free.
            await guests.AdoptAsync(orphan.Pid, record, budget.Token);
            return true;
        }
        catch (Exception ex) when (ex is QmpException or QemuLaunchException or IOException or System.Net.Sockets.SocketException or InvalidOperationException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // An agent must come up whatever its predecessor left: a guest it cannot take over is reported, not fatal.
            Log.NotAdopted(logger, orphan.Instance, orphan.Pid, ex.Message);
            return false;
        }
    }

    /// <summary>
    /// QEMU's run state through its operator monitor (free unless a person uses it) or else its main
    /// one (its agent is gone); null when neither answers in time.
    /// </summary>
    private async Task<string?> RunStateAsync(string directory, CancellationToken cancellationToken)
    {
        foreach (var socket in new[] { Path.Combine(directory, "qmp-operator.sock"), Path.Combine(directory, "qmp.sock") })
        {
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            budget.CancelAfter(StatusWait);
            try
            {
                await using var client = await qmp.ConnectAsync(socket, budget.Token);
                return (await client.QueryStatusAsync(budget.Token)).Status;
            }
            catch (Exception ex) when (ex is QmpException or IOException or System.Net.Sockets.SocketException
                || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                Log.StatusUnknown(logger, socket, ex.Message);
            }
        }

        return null;
    }

    /// <summary>
    /// Whether the process is the guest its command line describes: it runs <paramref name="qemuExecutable"/>
    /// and maps the RAM file named there (QEMU maps its guest's RAM for its whole life).
    /// </summary>
    internal static bool IsGuest(OrphanedQemu orphan, string qemuExecutable)
    {
        if (orphan.RamFile is not { } ram)
        {
            return false;
        }

        try
        {
            var exe = new FileInfo($"/proc/{orphan.Pid}/exe").LinkTarget;
            if (exe is null || !string.Equals(exe.Replace(" (deleted)", string.Empty, StringComparison.Ordinal), qemuExecutable, StringComparison.Ordinal))
            {
                return false;
            }

            return File.ReadLines($"/proc/{orphan.Pid}/maps").Any(line => line.EndsWith(" " + ram, StringComparison.Ordinal));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // exited meanwhile, or not ours to read
        }
    }

    /// <summary>The absolute path of the QEMU binary, as <c>/proc/&lt;pid&gt;/exe</c> shows it (symlinks resolved).</summary>
    internal static string ResolveExecutable(string binary)
    {
        var path = Path.IsPathRooted(binary)
            ? binary
            : (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Select(d => Path.Combine(d, binary)).FirstOrDefault(File.Exists) ?? binary;
        return File.Exists(path) ? new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path) : path;
    }

    /// <summary>
    /// SIGKILL through a pidfd and wait; false when it would not die. The pidfd is opened first, the
    /// process checked again through /proc, and only a process still alive then (so the one checked)
    /// is signalled: a pid that was recycled since <see cref="Find"/> is never hit.
    /// </summary>
    private async Task<bool> KillAsync(OrphanedQemu orphan, string qemuExecutable, CancellationToken cancellationToken)
    {
        using var handle = ProcessHandle.Open(orphan.Pid);
        if (handle is null)
        {
            return true; // gone already
        }

        if (!IsGuest(orphan, qemuExecutable) || !handle.IsAlive)
        {
            Log.NotTheSameProcess(logger, orphan.Instance, orphan.Pid);
            return true; // the QEMU found is gone: its files may be freed
        }

        if (!handle.Kill())
        {
            return true; // exited between the check and the signal
        }

        if (!await Task.Run(() => handle.WaitForExit(ExitWait), cancellationToken))
        {
            Log.WouldNotDie(logger, orphan.Instance, orphan.Pid);
            return false;
        }

        Log.Killed(logger, orphan.Instance, orphan.Pid);
        return true;
    }

    private async Task FreeAsync(string directory, string instance, OrphanedQemu? orphan)
    {
        if (orphan?.RamFile is { } ram)
        {
            try
            {
                File.Delete(ram);
            }
            catch (DirectoryNotFoundException)
            {
                // Its directory went with a reboot or a cleanup (tmpfs): the RAM is free already, and an
                // agent must come up whatever an earlier one left behind.
            }
        }

        await ports.DetachAsync(instance, orphan?.Ports ?? []);
        DeleteDirectory(directory);
        DeleteDirectory(directory + QemuInstanceLayout.UserDirectorySuffix);

        Log.Freed(logger, instance, orphan?.RamFile ?? "unknown", string.Join(", ", orphan?.Ports ?? []));
    }

    private static void DeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    internal sealed record OrphanedQemu(int Pid, string Instance, bool Incoming, string? RamFile, IReadOnlyList<string> Ports);

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.OrphanKilled, Level = LogLevel.Warning, Message = "Migration target {Instance} (pid {Pid}) outlived the previous agent; killed")]
        public static partial void Killed(ILogger logger, string instance, int pid);

        [LoggerMessage(EventId = AgentEventIds.OrphanFreed, Level = LogLevel.Warning, Message = "Instance {Instance} of the previous agent freed: directory, RAM file {RamFile}, ports {Ports}")]
        public static partial void Freed(ILogger logger, string instance, string ramFile, string ports);

        [LoggerMessage(EventId = AgentEventIds.OrphanRunningGuestLeft, Level = LogLevel.Warning, Message = "Guest {Instance} (pid {Pid}, {State}) outlived the previous agent and still runs; this agent does not manage it (stop it by hand or through its operator QMP socket)")]
        public static partial void RunningGuestLeft(ILogger logger, string instance, int pid, string state);

        [LoggerMessage(EventId = AgentEventIds.OrphanStatusUnknown, Level = LogLevel.Warning, Message = "No run state from {Socket}: {Reason}")]
        public static partial void StatusUnknown(ILogger logger, string socket, string reason);

        [LoggerMessage(EventId = AgentEventIds.OrphanNotTheSameProcess, Level = LogLevel.Warning, Message = "Pid {Pid} of instance {Instance} is no longer that QEMU; left alone")]
        public static partial void NotTheSameProcess(ILogger logger, string instance, int pid);

        [LoggerMessage(EventId = AgentEventIds.OrphanNoRecord, Level = LogLevel.Warning, Message = "Guest {Instance} (pid {Pid}) has no instance record this agent can read; it cannot be adopted")]
        public static partial void NoRecord(ILogger logger, string instance, int pid);

        [LoggerMessage(EventId = AgentEventIds.OrphanNotAdopted, Level = LogLevel.Warning, Message = "Guest {Instance} (pid {Pid}) could not be adopted: {Reason}")]
        public static partial void NotAdopted(ILogger logger, string instance, int pid, string reason);

        [LoggerMessage(EventId = AgentEventIds.OrphanWouldNotDie, Level = LogLevel.Error, Message = "Orphaned migration target {Instance} (pid {Pid}) did not exit after SIGKILL")]
        public static partial void WouldNotDie(ILogger logger, string instance, int pid);
    }
}
