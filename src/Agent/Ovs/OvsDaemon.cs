namespace Ferry.Agent.Ovs;

/// <summary>
/// ovsdb-server or ovs-vswitchd, run in the foreground as the agent's child (not <c>--detach</c>) so
/// the agent learns of its exit from the kernel rather than by polling a pid file. Its stdout and
/// stderr go to <c>&lt;name&gt;.out</c> beside its own <c>--log-file</c>.
/// </summary>
internal sealed class OvsDaemon : IDisposable
{
    private readonly ChildProcess _process;
    private int _stopRequested;

    private OvsDaemon(string name, ChildProcess process, string logFile, string outputFile)
    {
        Name = name;
        _process = process;
        LogFile = logFile;
        OutputFile = outputFile;
        Pid = process.Pid;
        Exited = WaitForExitAsync(process);
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
        IReadOnlyDictionary<string, string?> environment,
        string workingDirectory,
        string logFile,
        string outputFile)
    {
        var start = new ChildProcessStart(binary, arguments.ToList())
        {
            Environment = environment,
            WorkingDirectory = workingDirectory,
            OutputFile = outputFile,
        };
        return ChildProcess.TryStart(start, out var process, out var failure)
            ? new OvsDaemon(name, process, logFile, outputFile)
            : throw new OvsCommandException(failure);
    }

    public void MarkStopRequested() => Interlocked.Exchange(ref _stopRequested, 1);

    /// <summary>SIGKILL: for a daemon that ignored the request to exit, and for tests that simulate a crash.</summary>
    public void Kill() => _process.Kill();

    /// <summary>The last lines of its log file and of its console output, for error messages.</summary>
    public string ReadLogTail(int characters = 2000)
    {
        var text = string.Concat(ReadShared(LogFile), ReadShared(OutputFile)).Trim();
        return text.Length <= characters ? text : text[^characters..];
    }

    public void Dispose() => _process.Dispose();

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

    private static async Task<int> WaitForExitAsync(ChildProcess process)
    {
        var code = await process.Exited;
        await process.OutputClosed;
        return code;
    }
}
