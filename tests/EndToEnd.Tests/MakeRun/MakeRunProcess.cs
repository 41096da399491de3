using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ferry.Testing;

namespace Ferry.EndToEnd.Tests.MakeRun;

/// <summary>
/// <c>make run NO_BUILD=1</c> in the repository, as a user starts it from a terminal: in a session and
/// process group of its own (setsid), so that a signal to the group reaches make, scripts/run.sh and
/// everything they started in that group, as Ctrl-C, systemd or a container runtime would send it.
/// </summary>
public sealed class MakeRunProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private MakeRunProcess(Process process, MakeRunPlace place)
    {
        _process = process;
        Place = place;
    }

    /// <summary>Its ports, namespaces, subnet and RAM directories.</summary>
    public MakeRunPlace Place { get; }

    /// <summary>The process group (and session) of make and of everything it started there.</summary>
    public int ProcessGroup { get; private set; }

    public static string State { get; } = Path.Combine(Repository.Root, ".ferry");

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>What make printed, and the tails of the parts' logs: the failure message of every wait here.</summary>
    public string Diagnostics
    {
        get
        {
            var logs = Path.Combine(State, "logs");
            var tails = new[] { "api.log", "agent-a.log", "agent-b.log" }
                .Select(name => Path.Combine(logs, name))
                .Where(File.Exists)
                .Select(path => $"--- {path} (tail) ---\n{string.Join('\n', File.ReadLines(path).TakeLast(25))}");
            return $"--- make run's output ---\n{Output}\n{string.Join('\n', tails)}";
        }
    }

    public static MakeRunProcess Start(MakeRunPlace place)
    {
        ArgumentNullException.ThrowIfNull(place);
        var psi = Programs.StartInfo("setsid", ["make", "--no-print-directory", "run", "NO_BUILD=1"], place.Environment, Repository.Root);
        var process = new Process { StartInfo = psi };
        var run = new MakeRunProcess(process, place);
        process.OutputDataReceived += (_, e) => run.Append(e.Data);
        process.ErrorDataReceived += (_, e) => run.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // setsid forks only when its caller leads a process group, which a child of this process does not: the
        // process keeps its pid and leads a new group once setsid(2) ran, which may be after Start returned (seen:
        // still in the test's group right after Start). Waited for through /proc, a bound only for a setsid that fails.
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var group = ProcessTable.ProcessGroupOf(process.Id)
                ?? throw new InvalidOperationException($"make run (pid {process.Id}) ended at once:\n{run.Output}");
            if (group == process.Id)
            {
                run.ProcessGroup = group;
                return run;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new InvalidOperationException($"setsid did not make make run's process ({process.Id}) a group leader (group {group})");
            }

            Thread.Sleep(10);
        }
    }

    /// <summary>Waits until make run printed a line starting with <paramref name="prefix"/>; fails when it ends first or the deadline passes.</summary>
    public async Task WaitForLineAsync(string prefix, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (!Lines().Any(l => l.StartsWith(prefix, StringComparison.Ordinal)))
        {
            if (_process.HasExited)
            {
                // Let the output drain: the line may be in it after all.
                await _process.WaitForExitAsync();
                if (Lines().Any(l => l.StartsWith(prefix, StringComparison.Ordinal)))
                {
                    return;
                }

                throw new InvalidOperationException($"make run exited ({_process.ExitCode}) before it printed '{prefix}'\n{Diagnostics}");
            }

            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"make run did not print '{prefix}' within {deadline.TotalSeconds:F0} s\n{Diagnostics}");
            }

            await Task.Delay(200);
        }
    }

    public IEnumerable<string> Lines() => Output.Split('\n').Select(l => l.TrimEnd('\r'));

    /// <summary>Sends <paramref name="signal"/> (TERM, INT, KILL) to make run's whole process group.</summary>
    public Task SignalGroupAsync(string signal) => Kill(signal, "--", "-" + ProcessGroup.ToString(CultureInfo.InvariantCulture));

    /// <summary>Sends <paramref name="signal"/> to one process.</summary>
    public static Task SignalAsync(int pid, string signal) => Kill(signal, pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>Waits for make to exit; fails with its output when it does not within <paramref name="deadline"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"make run did not exit within {deadline.TotalSeconds:F0} s of the signal\n{Diagnostics}");
        }

        return _process.ExitCode;
    }

    /// <summary>Whether <paramref name="signal"/>'s number is in make's ignored set (inherited from whoever started the test).</summary>
    public bool Ignores(int signal) => ProcessTable.IgnoredSignals(_process.Id) is { } mask && (mask & (1UL << (signal - 1))) != 0;

    /// <summary>A test that failed half way must not leave make run running: SIGTERM to the group, then SIGKILL.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await SignalGroupAsync("TERM");
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                await SignalGroupAsync("KILL");
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
    }

    private static async Task Kill(string signal, params string[] target) => await Programs.RunAsync("kill", ["-s", signal, .. target]);

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
