using System.ComponentModel;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Ferry.Agent;

/// <summary>
/// A process the agent started: QEMU, ovsdb-server and ovs-vswitchd, and the tools it asks things of
/// (ovs-vsctl, ip, chown, QEMU's boot probe). Every one starts the same way: an argument array, never
/// a shell (a name with a space or a semicolon stays one argument); the agent's environment with the
/// caller's variables on top; stdin closed at once, so a program that reads it sees the end instead of
/// waiting for an agent that never writes; stdout and stderr either captured (a tool's answer) or
/// appended to one file as they arrive (<see cref="ChildProcessStart.OutputFile"/>). Disposing kills it
/// if it still runs. None is started as another user: QEMU drops to <c>Qemu:RunAs</c> itself
/// (<c>-runas</c>), and OVS runs as the agent.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process, string? outputFile)
    {
        _process = process;
        Pid = process.Id;
        process.StandardInput.Close();
        if (outputFile is null)
        {
            CapturedOutput = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            CapturedError = process.StandardError.ReadToEndAsync(CancellationToken.None);
            OutputClosed = Task.WhenAll(CapturedOutput, CapturedError);
        }
        else
        {
            CapturedOutput = CapturedError = Task.FromResult(string.Empty);
            OutputClosed = ForwardAsync(process, outputFile);
        }

        Exited = WaitForExitAsync(process);
    }

    public int Pid { get; }

    /// <summary>
    /// Completes with the exit code (128 + signal number for a signal) when the process ends. Its output
    /// may still be on its way then: see <see cref="OutputClosed"/>.
    /// </summary>
    public Task<int> Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    /// <summary>Completes when stdout and stderr are closed and everything they carried was captured or written to the output file.</summary>
    public Task OutputClosed { get; }

    /// <summary>Its whole stdout once closed; empty when it went to an output file.</summary>
    public Task<string> CapturedOutput { get; }

    /// <summary>Its whole stderr once closed; empty when it went to an output file.</summary>
    public Task<string> CapturedError { get; }

    /// <summary>Starts <paramref name="start"/>; false, with the reason, when it cannot start (no such program, not executable).</summary>
    public static bool TryStart(ChildProcessStart start, [NotNullWhen(true)] out ChildProcess? child, [NotNullWhen(false)] out string? failure)
    {
        ArgumentNullException.ThrowIfNull(start);
        var startInfo = new ProcessStartInfo(start.Binary)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (start.WorkingDirectory is not null)
        {
            startInfo.WorkingDirectory = start.WorkingDirectory;
        }

        foreach (var argument in start.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in start.Environment ?? new Dictionary<string, string?>())
        {
            startInfo.Environment[key] = value;
        }

        try
        {
            if (Process.Start(startInfo) is not { } process)
            {
                (child, failure) = (null, $"{start.Binary} did not start.");
                return false;
            }

            (child, failure) = (new ChildProcess(process, start.OutputFile), null);
            return true;
        }
        catch (Win32Exception ex)
        {
            (child, failure) = (null, $"Cannot run {start.Binary}: {ex.Message}");
            return false;
        }
    }

    /// <summary>
    /// Runs a tool to its end and returns what it printed, killing it when it outlives <paramref name="timeout"/>:
    /// a tool that waits on a hung daemon (ovs-vsctl on ovs-vswitchd) must not hang the agent. Not starting
    /// and timing out are <see cref="ChildProcessRun.Failure"/> values; only the caller's own cancellation throws.
    /// </summary>
    public static async Task<ChildProcessRun> RunAsync(ChildProcessStart start, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (start.OutputFile is not null)
        {
            throw new ArgumentException("A run captures its output; an output file is for processes started with TryStart.", nameof(start));
        }

        using var timeoutSource = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        if (!TryStart(start, out var child, out var failure))
        {
            return new ChildProcessRun(-1, string.Empty, string.Empty) { Failure = failure };
        }

        using (child)
        {
            try
            {
                await child.Exited.WaitAsync(linked.Token);
            }
            catch (OperationCanceledException)
            {
                child.Kill();
                var code = await child.Exited;
                cancellationToken.ThrowIfCancellationRequested();
                var error = await child.CapturedError;
                return new ChildProcessRun(code, await child.CapturedOutput, error)
                {
                    TimedOut = true,
                    Failure = $"{start.Describe()} did not finish within {timeout}: {error.Trim()}",
                };
            }

            return new ChildProcessRun(await child.Exited, await child.CapturedOutput, await child.CapturedError);
        }
    }

    /// <summary>
    /// <see cref="RunAsync"/> for the few callers that are synchronous (a probe in a lazy value, a one-off chown),
    /// on a thread-pool thread so that no synchronization context it was called on can deadlock it.
    /// </summary>
    public static ChildProcessRun Run(ChildProcessStart start, TimeSpan timeout, TimeProvider timeProvider) =>
        Task.Run(() => RunAsync(start, timeout, timeProvider, CancellationToken.None)).GetAwaiter().GetResult();

    /// <summary>The program's file name and its arguments, for messages.</summary>
    public static string Describe(string binary, IEnumerable<string> arguments) =>
        $"{Path.GetFileName(binary)} {string.Join(' ', arguments)}";

    /// <summary>SIGKILL, to this process alone; nothing when it has exited.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: false);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
    }

    /// <summary>Kills it if it still runs and frees the handle once it has exited; its exit and output tasks still complete.</summary>
    public void Dispose()
    {
        Kill();

        // Not at once: a Process disposed before its exit stops watching for it, and Exited would never
        // complete (ChildProcessTests: a killed `sleep` then timed out waiting for its 137).
        _ = Exited.ContinueWith(
            static (_, process) => ((Process)process!).Dispose(),
            _process,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static async Task<int> WaitForExitAsync(Process process)
    {
        await process.WaitForExitAsync(CancellationToken.None);
        return process.ExitCode;
    }

    /// <summary>Copies stdout and stderr into one file as they arrive, until both close.</summary>
    private static async Task ForwardAsync(Process process, string path)
    {
        await using var log = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true);
        using var gate = new SemaphoreSlim(1, 1);
        async Task CopyAsync(StreamReader from)
        {
            var buffer = new char[4096];
            int read;
            while ((read = await from.ReadAsync(buffer)) > 0)
            {
                var bytes = Encoding.UTF8.GetBytes(buffer, 0, read);
                await gate.WaitAsync();
                try
                {
                    await log.WriteAsync(bytes);
                    await log.FlushAsync();
                }
                finally
                {
                    gate.Release();
                }
            }
        }

        await Task.WhenAll(CopyAsync(process.StandardOutput), CopyAsync(process.StandardError));
    }
}
