using System.Diagnostics;

namespace Ferry.Testing;

/// <summary>
/// The forwarding guest's image as <c>scripts/forwarding-guest/build.sh</c> builds it (or finds it cached) in
/// the repository's <c>.ferry/images/forwarding-guest</c>; the agent and end-to-end tests share it, and the
/// script's own lock serialises their builds. <see cref="Unavailable"/> says why there is none when Debian's
/// packages cannot be had (the script's exit status 75); any other failure throws.
/// </summary>
public sealed record ForwardingGuestBuild(string Directory, string? Unavailable, TimeSpan BuildTime, string Log)
{
    private const int PackagesUnavailable = 75;

    public static async Task<ForwardingGuestBuild> RunAsync(CancellationToken cancellationToken)
    {
        var script = Path.Combine(Repository.Root, "scripts", "forwarding-guest", "build.sh");
        var output = Path.Combine(Repository.Root, ".ferry", "images", "forwarding-guest");
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
            return new ForwardingGuestBuild(output, $"the forwarding guest image cannot be built without Debian's packages: {log}", clock.Elapsed, log);
        }

        return process.ExitCode == 0
            ? new ForwardingGuestBuild(output, null, clock.Elapsed, log)
            : throw new InvalidOperationException($"{script} failed ({process.ExitCode}): {log}");
    }
}
