using System.Diagnostics;

namespace Ferry.Testing;

/// <summary>
/// Runs the programs tests run to their end (<c>ip</c>, <c>ovs-vsctl</c>, <c>stat</c>, <c>npm</c>, the repository's
/// scripts): with an argument array, never through a shell (docs/reliability.md's rule for Ferry itself), its
/// standard input closed, and both outputs read side by side, so a program that fills one pipe while the test
/// waits on the other cannot stall. How it ended is a value; each test says what a failure means.
/// </summary>
public static class Programs
{
    /// <summary>Runs <paramref name="file"/> to its end.</summary>
    /// <param name="file">The program, by path or by name on PATH.</param>
    /// <param name="arguments">Its arguments, one element each.</param>
    /// <param name="environment">Variables set over the test's own environment.</param>
    /// <param name="workingDirectory">Its working directory; the test's when null.</param>
    /// <param name="input">What it reads on standard input before end of file; nothing when null.</param>
    /// <param name="cancellationToken">Stops the wait (not the program).</param>
    public static async Task<ProgramRun> RunAsync(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null, string? input = null, CancellationToken cancellationToken = default)
    {
        using var process = Process.Start(StartInfo(file, arguments, environment, workingDirectory, redirectInput: true))!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync(cancellationToken);
        return new ProgramRun(process.ExitCode, await output, await error);
    }

    /// <summary>Runs <paramref name="file"/> to its end, for callers that cannot await (a Dispose, a property).</summary>
    public static ProgramRun Run(string file, params string[] arguments)
    {
        using var process = Process.Start(StartInfo(file, arguments, null, null, redirectInput: true))!;
        process.StandardInput.Close();
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return new ProgramRun(process.ExitCode, output, error.GetAwaiter().GetResult());
    }

    /// <summary>
    /// How every process a test starts is started: <paramref name="arguments"/> as an array, no shell, both outputs
    /// redirected, <paramref name="environment"/> over the test's own.
    /// </summary>
    public static ProcessStartInfo StartInfo(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null, bool redirectInput = false)
    {
        var startInfo = new ProcessStartInfo(file)
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        return startInfo;
    }
}
