using System.Diagnostics;
using Ferry.Agent.Qemu;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Guests;

/// <summary>
/// Runs once when the agent starts: finds QEMU processes a previous life of this agent left behind
/// (it was killed, so it could not stop them) by their QMP socket under this agent's QEMU run
/// directory. A migration target among them is garbage — its migration failed with the agent, and
/// nobody will ever ask it to resume — so it is killed and its RAM file and ports are freed, as the
/// target's cleanup would have. A running guest is a VM someone depends on: it is left alone and
/// reported, never killed on a guess.
/// </summary>
internal sealed partial class OrphanReaper(
    IOptions<QemuLauncherOptions> options,
    GuestPorts ports,
    ILogger<OrphanReaper> logger) : IHostedService
{
    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var orphan in Find(options.Value.RunDirectory))
        {
            if (!orphan.Incoming)
            {
                Log.RunningGuestLeft(logger, orphan.Instance, orphan.Pid);
                continue;
            }

            await ReapAsync(orphan, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The QEMU processes whose main QMP socket lies in an instance directory under <paramref name="runDirectory"/>.</summary>
    internal static IReadOnlyList<OrphanedQemu> Find(string runDirectory)
    {
        var prefix = "socket,id=qmp0,path=" + Path.TrimEndingDirectorySeparator(runDirectory) + "/";
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

            if (argv.FirstOrDefault(a => a.StartsWith(prefix, StringComparison.Ordinal)) is not { } qmp)
            {
                continue;
            }

            var socket = qmp[20..].Split(",server=", 2)[0];
            var instance = Path.GetFileName(Path.GetDirectoryName(socket)!);
            var memPath = argv.Select(a => a.Split(",mem-path=", 2)).FirstOrDefault(p => p.Length == 2)?[1].Split(',')[0];
            var nics = argv.Where(a => a.StartsWith("socket,id=char-", StringComparison.Ordinal)).Select(a => a[15..].Split(',')[0]).ToList();
            found.Add(new OrphanedQemu(pid, instance, argv.Contains("-incoming"), memPath, nics));
        }

        return found;
    }

    private async Task ReapAsync(OrphanedQemu orphan, CancellationToken cancellationToken)
    {
        try
        {
            using var process = Process.GetProcessById(orphan.Pid);
            process.Kill();
            await process.WaitForExitAsync(cancellationToken).WaitAsync(ExitWait, cancellationToken);
        }
        catch (ArgumentException)
        {
            // Gone already.
        }
        catch (TimeoutException)
        {
            Log.WouldNotDie(logger, orphan.Instance, orphan.Pid);
            return;
        }

        if (orphan.RamFile is { } ram)
        {
            File.Delete(ram);
        }

        await ports.DetachAsync(orphan.Instance, orphan.Ports);
        try
        {
            Directory.Delete(Path.Combine(options.Value.RunDirectory, orphan.Instance), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        Log.Reaped(logger, orphan.Instance, orphan.Pid, string.Join(", ", orphan.Ports));
    }

    internal sealed record OrphanedQemu(int Pid, string Instance, bool Incoming, string? RamFile, IReadOnlyList<string> Ports);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3480, Level = LogLevel.Warning, Message = "Migration target {Instance} (pid {Pid}) outlived the previous agent; killed, its RAM and ports ({Ports}) freed")]
        public static partial void Reaped(ILogger logger, string instance, int pid, string ports);

        [LoggerMessage(EventId = 3481, Level = LogLevel.Warning, Message = "Guest {Instance} (pid {Pid}) outlived the previous agent and still runs; this agent does not manage it (stop it by hand or through its QMP socket)")]
        public static partial void RunningGuestLeft(ILogger logger, string instance, int pid);

        [LoggerMessage(EventId = 3482, Level = LogLevel.Error, Message = "Orphaned migration target {Instance} (pid {Pid}) did not exit after SIGKILL")]
        public static partial void WouldNotDie(ILogger logger, string instance, int pid);
    }
}
