using Ferry.Testing;

namespace Ferry.Agent.Tests.ForwardingGuest;

/// <summary>
/// The forwarding guest's kernel, initramfs and command line, built (or reused from the cache) by
/// <c>scripts/forwarding-guest/build.sh</c> into <c>.ferry/images/forwarding-guest</c>.
/// </summary>
internal sealed record ForwardingGuestTestImage(string Kernel, string Initrd, string CommandLine, TimeSpan BuildTime, string BuildLog)
{
    public static async Task<ForwardingGuestTestImage> BuildAsync(CancellationToken cancellationToken)
    {
        var build = await ForwardingGuestBuild.RunAsync(cancellationToken);
        if (build.Unavailable is { } why)
        {
            Assert.Skip(why);
        }

        var commandLine = (await File.ReadAllTextAsync(Path.Combine(build.Directory, "cmdline"), cancellationToken)).Trim();
        return new ForwardingGuestTestImage(Path.Combine(build.Directory, "vmlinuz"), Path.Combine(build.Directory, "initrd"), commandLine, build.BuildTime, build.Log);
    }
}
