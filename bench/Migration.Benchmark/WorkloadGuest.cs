using System.Diagnostics;
using Ferry.Transfer.Guest;
using Ferry.Transfer.Migration;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// The engine's workload guest (Ferry.Transfer.Workload) as a child process, and as the source
/// guest the engine pauses and stops. Pause, resume and an incoming guest's start go through its
/// shared control word (no pipe round trip, no process wake-up to read a line inside the downtime
/// window); readiness and quit go over stdin/stdout.
/// </summary>
internal sealed class WorkloadGuest : IGuestControl, IDisposable
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly GuestControlWord _control;

    private WorkloadGuest(Process process, GuestControlWord control)
    {
        _process = process;
        _control = control;
    }

    public int Pid => _process.Id;

    public static async Task<WorkloadGuest> StartAsync(BenchmarkHost host, string ramFile, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var control = GuestControlWord.Create();
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "Ferry.Transfer.Workload.dll"), "--ram", ramFile, "--control", control.FilePath }.Concat(arguments))
        {
            start.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("the workload did not start");
        }
        catch
        {
            control.Dispose();
            throw;
        }

        host.Track(process);
        var guest = new WorkloadGuest(process, control);
        string ready = await guest.ReadLineAsync();
        if (!ready.StartsWith("ready ", StringComparison.Ordinal))
        {
            guest.Dispose();
            throw new InvalidOperationException($"the workload said '{ready}'");
        }

        return guest;
    }

    /// <summary>One command, one answer; asynchronous so no pool thread blocks inside the downtime window.</summary>
    public async Task<string> CommandAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
        return await ReadLineAsync();
    }

    /// <summary>Returns once the guest acknowledged in its control word; synchronous, so no thread hop sits in the downtime.</summary>
    public Task<ReadOnlyMemory<byte>> PauseAsync(CancellationToken cancellationToken)
    {
        _control.Pause(AnswerTimeout);
        return Task.FromResult(ReadOnlyMemory<byte>.Empty); // all of its state is in its RAM file
    }

    public Task ResumeAsync(CancellationToken cancellationToken)
    {
        _control.Resume();
        return Task.CompletedTask;
    }

    /// <summary>The source is pausing: the --incoming guest watches for its start instead of sleeping.</summary>
    public void AnnounceStart() => _control.AnnounceStart();

    /// <summary>Starts an --incoming guest on the RAM it received; returns once it runs.</summary>
    public void StartIncoming() => _control.Start(AnswerTimeout);

    /// <summary>Part of the engine's deferred cleanup: the source guest quits for good.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _process.StandardInput.WriteLineAsync("quit".AsMemory(), cancellationToken);
        await _process.StandardInput.FlushAsync(cancellationToken);
        await _process.WaitForExitAsync(cancellationToken);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
                if (!_process.WaitForExit(5000))
                {
                    _process.Kill();
                    _process.WaitForExit();
                }
            }
        }
        catch (IOException)
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        _control.Dispose();
    }

    private async Task<string> ReadLineAsync()
    {
        try
        {
            if (await _process.StandardOutput.ReadLineAsync().WaitAsync(AnswerTimeout) is { } line)
            {
                return line;
            }
        }
        catch (TimeoutException)
        {
        }

        bool exited = _process.WaitForExit(5000);
        throw new InvalidOperationException($"the workload did not answer: {(exited ? await _process.StandardError.ReadToEndAsync() : "still running")}");
    }

    public static void Expect(string answer, string prefix)
    {
        if (!answer.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the workload answered '{answer}', expected '{prefix}'");
        }
    }
}
