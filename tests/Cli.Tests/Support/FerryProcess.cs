using System.Diagnostics;
using System.Text;
using Ferry.Testing;

namespace Ferry.Cli.Tests.Support;

/// <summary>
/// <c>ferry</c> as an operator runs it: its own process (the build output of src/Cli), its own
/// environment, stdout and stderr read as they come so a test can wait for a line before it acts.
/// </summary>
public sealed class FerryProcess : IAsyncDisposable
{
    /// <summary>How long any wait on the CLI may take before the test fails saying what it waited for (a hang guard, not a timing assert).</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly Task _pumps;
    private readonly SemaphoreSlim _changed = new(0);

    private FerryProcess(Process process)
    {
        _process = process;
        _pumps = Task.WhenAll(Pump(process.StandardOutput, _output), Pump(process.StandardError, _error));
    }

    public static string Dll { get; } = Path.Combine(Repository.Root, "src", "Cli", "bin", Repository.Configuration, "net10.0", "ferry.dll");

    public int Id => _process.Id;

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

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="args"/>; the environment is this process's
    /// without any <c>FERRY_*</c> variable and without <c>NO_COLOR</c>, plus <paramref name="environment"/>.
    /// (The xUnit runner's <c>-noColor</c> sets <c>NO_COLOR</c> for itself, and a ferry started beside it would draw
    /// no colour, which the live display's tests look for.)
    /// </summary>
    public static FerryProcess Start(string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var psi = Programs.StartInfo(fileName, args, workingDirectory: workingDirectory, redirectInput: true);
        psi.StandardOutputEncoding = Encoding.UTF8;
        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("FERRY_", StringComparison.Ordinal) || k == "NO_COLOR").ToList())
        {
            psi.Environment.Remove(name);
        }

        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"{fileName} did not start");
        process.StandardInput.Close();
        return new FerryProcess(process);
    }

    /// <summary>Waits until stdout contains <paramref name="text"/>; fails with everything written so far when the process ends first.</summary>
    public async Task WaitForOutputAsync(string text, CancellationToken ct)
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(ct);
        guard.CancelAfter(Patience);
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited && _pumps.IsCompleted)
            {
                Assert.Fail($"ferry ended before writing '{text}':\n{await ExitAsync(ct)}");
            }

            try
            {
                await _changed.WaitAsync(TimeSpan.FromMilliseconds(200), guard.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                Assert.Fail($"ferry did not write '{text}' within {Patience.TotalSeconds} s; so far:\n--- stdout\n{Output}\n--- stderr\n{Error}");
            }
        }
    }

    /// <summary>Waits for the process to end (at most <see cref="Patience"/>, then it is killed and the test fails).</summary>
    public async Task<ProgramRun> ExitAsync(CancellationToken ct)
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(ct);
        guard.CancelAfter(Patience);
        try
        {
            await _process.WaitForExitAsync(guard.Token);
            await _pumps.WaitAsync(guard.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"ferry did not end within {Patience.TotalSeconds} s:\n--- stdout\n{Output}\n--- stderr\n{Error}");
        }

        return new ProgramRun(_process.ExitCode, Output, Error);
    }

    /// <summary>Ctrl-C, as a terminal sends it: SIGINT to the process (through kill(1): no interop outside src/Transfer).</summary>
    public async Task InterruptAsync(CancellationToken ct)
    {
        var kill = await Programs.RunAsync("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], cancellationToken: ct);
        Assert.Equal(0, kill.ExitCode);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task Pump(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into)
            {
                into.Append(buffer, 0, n);
            }

            _changed.Release();
        }

        _changed.Release();
    }
}
