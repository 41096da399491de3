using System.ComponentModel;
using System.Diagnostics;

namespace Ferry.Agent.Ovs;

/// <summary>
/// ovsdb-server or ovs-vswitchd, run in the foreground as the agent's child (not <c>--detach</c>) so
/// the agent learns of its exit from the kernel rather than by polling a pid file. Its stdout and
/// stderr go to <c>&lt;name&gt;.out</c> beside its own <c>--log-file</c>.
/// </summary>
internal sealed class OvsDaemon : IDisposable
{
    private readonly Process _process;
    private readonly Task _outputPump;
    private int _stopRequested;

    private OvsDaemon(string name, Process process, string logFile, string outputFile)
    {
        Name = name;
        _process = process;
        LogFile = logFile;
        OutputFile = outputFile;
        Pid = process.Id;
        _outputPump = ProcessLogPump.RunAsync(process, outputFile);
        Exited = WaitForExitAsync(process, _outputPump);
    }

    public string Name { get; }

    public int Pid { get; }

    public string LogFile { get; }

    public string OutputFile { get; }

    /// <summary>Completes with the exit code (128 + signal for a signal) once the process is gone and its output is flushed.</summary>
    public Task<int> Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    /// <summary>True once the agent asked it to stop: its exit is then expected, not a failure.</summary>
    public bool StopRequested => Volatile.Read(ref _stopRequested) != 0;

    public static OvsDaemon Start(
        string name,
        string binary,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string> environment,
        string workingDirectory,
        string logFile,
        string outputFile)
    {
        var startInfo = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        try
        {
            var process = Process.Start(startInfo) ?? throw new OvsCommandException($"{binary} did not start.");
            process.StandardInput.Close();
            return new OvsDaemon(name, process, logFile, outputFile);
        }
        catch (Win32Exception ex)
        {
            throw new OvsCommandException($"Cannot run {binary}: {ex.Message}", ex);
        }
    }

    public void MarkStopRequested() => Interlocked.Exchange(ref _stopRequested, 1);

    /// <summary>SIGKILL: for a daemon that ignored the request to exit, and for tests that simulate a crash.</summary>
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

    /// <summary>The last lines of its log file and of its console output, for error messages.</summary>
    public string ReadLogTail(int characters = 2000)
    {
        var text = string.Concat(ReadShared(LogFile), ReadShared(OutputFile)).Trim();
        return text.Length <= characters ? text : text[^characters..];
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static string ReadShared(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return string.Empty;
        }
    }

    private static async Task<int> WaitForExitAsync(Process process, Task outputPump)
    {
        await process.WaitForExitAsync(CancellationToken.None);
        await outputPump;
        return process.ExitCode;
    }
}
