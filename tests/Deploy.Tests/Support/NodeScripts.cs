using Ferry.Testing;

namespace Ferry.Deploy.Tests.Support;

/// <summary>
/// The Node.js side of the chart tests (tests/Deploy.Tests/node): Go's text/template compiled to
/// WebAssembly renders the chart, the Kubernetes API's schemas check what it renders. Its packages come
/// from the npm registry through <c>npm ci</c> and the committed lock file, once per test run.
/// </summary>
public static class NodeScripts
{
    private static readonly Lazy<Task<string?>> Installed = new(InstallAsync);

    public static string Directory { get; } = Path.Combine(Repository.Root, "tests", "Deploy.Tests", "node");

    /// <summary>Skips the calling test, saying why, when Node.js or the packages are not to be had here.</summary>
    public static async Task RequireAsync()
    {
        if (await Installed.Value is { } why)
        {
            Assert.Skip(why);
        }
    }

    /// <summary>Runs <paramref name="script"/> with <paramref name="stdin"/>; its standard output, or an exception with its standard error.</summary>
    public static async Task<string> RunAsync(string script, string stdin)
    {
        await RequireAsync();
        var (exit, stdout, stderr) = await ExecAsync("node", [script], stdin);
        return exit == 0 ? stdout : throw new InvalidOperationException($"node {script} failed ({exit}): {stderr}");
    }

    private static async Task<string?> InstallAsync()
    {
        if (Which("node") is null)
        {
            return "Node.js is not installed (Debian: apt-get install nodejs npm): the chart is rendered and checked by Node packages";
        }

        var lockFile = Path.Combine(Directory, "package-lock.json");
        var installed = Path.Combine(Directory, "node_modules", ".package-lock.json");
        if (File.Exists(installed) && File.GetLastWriteTimeUtc(installed) >= File.GetLastWriteTimeUtc(lockFile))
        {
            return null;
        }

        if (Which("npm") is null)
        {
            return "npm is not installed (Debian: apt-get install npm), and tests/Deploy.Tests/node/node_modules is missing";
        }

        // Exactly the lock file's versions; no install scripts run.
        var (exit, _, stderr) = await ExecAsync("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], null);
        return exit == 0 ? null : $"npm ci in tests/Deploy.Tests/node failed ({exit}), so the chart's renderer and schemas are missing: {stderr.Trim()}";
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> ExecAsync(string file, IEnumerable<string> args, string? stdin)
    {
        var (exit, stdout, stderr) = await Programs.RunAsync(file, args, workingDirectory: Directory, input: stdin);
        return (exit, stdout, stderr);
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}
