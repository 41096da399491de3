using System.Diagnostics;
using System.Globalization;
using Ferry.Testing;
using Ferry.Transfer.Guest;

namespace Ferry.Transfer.Tests.Support;

/// <summary>
/// The workload guest as a child process: paused, resumed and started through its shared control
/// word as the engine's controllers do, and driven over stdin/stdout for everything else.
/// </summary>
internal sealed class WorkloadProcess : IDisposable
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;

    private WorkloadProcess(Process process, GuestControlWord control)
    {
        _process = process;
        Control = control;
    }

    public GuestControlWord Control { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static WorkloadProcess Start(string ramPath, string profile, params string[] extra)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Ferry.Transfer.Workload.dll");
        var control = GuestControlWord.Create();
        var start = Programs.StartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [dll, "--ram", ramPath, "--profile", profile, "--control", control.FilePath, .. extra], redirectInput: true);

        var process = Process.Start(start) ?? throw new InvalidOperationException("workload did not start");
        var workload = new WorkloadProcess(process, control);
        string ready = workload.ReadLine();
        if (!ready.StartsWith("ready ", StringComparison.Ordinal))
        {
            workload.Dispose();
            throw new InvalidOperationException($"workload said '{ready}': {process.StandardError.ReadToEnd()}");
        }

        return workload;
    }

    public string Command(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
        return ReadLine();
    }

    public void Pause() => Control.Pause(AnswerTimeout);

    /// <summary>Starts an --incoming workload on the RAM it was given.</summary>
    public void StartIncoming() => Control.Start(AnswerTimeout);

    public void Resume() => Control.Resume();

    public void Write(params long[] pages) =>
        Expect(Command("write " + string.Join(' ', pages.Select(p => p.ToString(CultureInfo.InvariantCulture)))), "written");

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
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
                }
            }
        }
        catch (IOException)
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        Control.Dispose();
    }

    private string ReadLine()
    {
        var read = _process.StandardOutput.ReadLineAsync();
        if (read.Wait(AnswerTimeout) && read.Result is { } line)
        {
            return line;
        }

        // Closed output means the process is exiting: give it a moment so its error can be shown.
        bool exited = _process.WaitForExit(5000);
        throw new InvalidOperationException($"workload did not answer: {(exited ? _process.StandardError.ReadToEnd() : "still running")}");
    }

    private static void Expect(string answer, string prefix)
    {
        if (!answer.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"workload answered '{answer}', expected '{prefix}'");
        }
    }
}
