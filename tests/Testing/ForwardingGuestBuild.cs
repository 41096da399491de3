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
        var clock = Stopwatch.StartNew();
        var run = await Programs.RunAsync(script, [output], cancellationToken: cancellationToken);
        var log = (run.Output + run.Error).Trim();
        if (run.ExitCode == PackagesUnavailable)
        {
            return new ForwardingGuestBuild(output, $"the forwarding guest image cannot be built without Debian's packages: {log}", clock.Elapsed, log);
        }

        return run.Succeeded
            ? new ForwardingGuestBuild(output, null, clock.Elapsed, log)
            : throw new InvalidOperationException($"{script} failed ({run.ExitCode}): {log}");
    }
}
