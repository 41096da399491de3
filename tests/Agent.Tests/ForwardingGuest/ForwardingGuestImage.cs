using System.Diagnostics;

namespace Ferry.Agent.Tests.ForwardingGuest;

/// <summary>
/// The forwarding guest's kernel, initramfs and command line, built (or reused from the cache) by
/// <c>scripts/forwarding-guest/build.sh</c> into <c>.ferry/images/forwarding-guest</c>.
/// </summary>
internal sealed record ForwardingGuestImage(string Kernel, string Initrd, string CommandLine, TimeSpan BuildTime, string BuildLog)
{
    /// <summary>build.sh's exit status when Debian's packages cannot be had.</summary>
    private const int PackagesUnavailable = 75;

    public static async Task<ForwardingGuestImage> BuildAsync(CancellationToken cancellationToken)
    {
        var root = RepositoryRoot();
        var script = Path.Combine(root, "scripts", "forwarding-guest", "build.sh");
        var output = Path.Combine(root, ".ferry", "images", "forwarding-guest");
        var psi = new ProcessStartInfo(script) { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(output);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var log = (await stdout + await stderr).Trim();
        if (process.ExitCode == PackagesUnavailable)
        {
            Assert.Skip($"the forwarding guest image cannot be built without Debian's packages: {log}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed ({process.ExitCode}): {log}");
        }

        var commandLine = (await File.ReadAllTextAsync(Path.Combine(output, "cmdline"), cancellationToken)).Trim();
        return new ForwardingGuestImage(Path.Combine(output, "vmlinuz"), Path.Combine(output, "initrd"), commandLine, clock.Elapsed, log);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "scripts", "forwarding-guest", "build.sh")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No scripts/forwarding-guest/build.sh above {AppContext.BaseDirectory}");
    }
}
