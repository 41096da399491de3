using System.Diagnostics;

namespace Ferry.Testing;

/// <summary>Runs the repository's own scripts (postgres.sh, hosts.sh) the way the tests need them.</summary>
public static class Scripts
{
    /// <summary>Runs <c>scripts/<paramref name="script"/></c> with an argument array; throws with its stderr when it fails.</summary>
    public static async Task RunAsync(string script, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(Repository.Root, "scripts", script)) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/{script} {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}");
        }
    }
}
