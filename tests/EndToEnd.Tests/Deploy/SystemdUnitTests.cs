using System.Diagnostics;
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

        var psi = new ProcessStartInfo("systemd-analyze") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "verify", Path.Combine(Repository.Root, "deploy", "systemd", unit) })
        {
            psi.ArgumentList.Add(a);
        }

        var ct = TestContext.Current.CancellationToken;
        using var verify = Process.Start(psi)!;
        var output = verify.StandardOutput.ReadToEndAsync(ct);
        var error = await verify.StandardError.ReadToEndAsync(ct);
        await verify.WaitForExitAsync(ct);
        var said = (await output + error).Trim();
        Assert.True(verify.ExitCode == 0 && said.Length == 0, $"systemd-analyze verify {unit} exited {verify.ExitCode}: {said}");
    }
}
