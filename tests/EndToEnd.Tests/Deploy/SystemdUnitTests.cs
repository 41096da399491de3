using Ferry.Testing;

namespace Ferry.EndToEnd.Tests.Deploy;

/// <summary>deploy/systemd's units are ones systemd would load: no unknown key, no bad value, no missing binary.</summary>
public sealed class SystemdUnitTests
{
    [Theory]
    [InlineData("ferry-api.service")]
    [InlineData("ferry-agent.service")]
    public async Task The_unit_passes_systemd_analyze_verify_without_a_warning(string unit)
    {
        if (!File.Exists("/usr/bin/systemd-analyze"))
        {
            Assert.Skip("systemd-analyze is not installed here (Debian's systemd package)");
        }

        // ExecStart names /usr/bin/dotnet, and verify checks that it is there.
        if (!File.Exists("/usr/bin/dotnet"))
        {
            Assert.Skip("/usr/bin/dotnet, which the units run, is not on this machine");
        }

        var verify = await Programs.RunAsync("systemd-analyze", ["verify", Path.Combine(Repository.Root, "deploy", "systemd", unit)],
            cancellationToken: TestContext.Current.CancellationToken);
        var said = (verify.Output + verify.Error).Trim();
        Assert.True(verify.Succeeded && said.Length == 0, $"systemd-analyze verify {unit} exited {verify.ExitCode}: {said}");
    }
}
