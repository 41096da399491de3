namespace Ferry.Testing;

/// <summary>Runs the repository's own scripts (postgres.sh, hosts.sh) the way the tests need them.</summary>
public static class Scripts
{
    /// <summary>Runs <c>scripts/<paramref name="script"/></c> with an argument array; throws with its stderr when it fails.</summary>
    public static async Task RunAsync(string script, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var run = await Programs.RunAsync(Path.Combine(Repository.Root, "scripts", script), args, environment);
        if (!run.Succeeded)
        {
            throw new InvalidOperationException($"scripts/{script} {string.Join(' ', args)} failed ({run.ExitCode}): {run.Error}");
        }
    }
}
