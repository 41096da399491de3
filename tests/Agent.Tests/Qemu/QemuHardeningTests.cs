using System.Diagnostics;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.Tests.Support;
using Ferry.Testing;

namespace Ferry.Agent.Tests.Qemu;

/// <summary>Real QEMU processes: sandboxed, under another user when asked, with their RAM kept from other users.</summary>
public sealed class QemuHardeningTests
{
    private static Dictionary<string, string> Status(int pid) => File.ReadAllLines($"/proc/{pid}/status")
        .Select(l => l.Split(':', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1].Trim());

    [Fact]
    public async Task Qemu_runs_in_its_seccomp_sandbox_with_its_ram_private_to_the_agent()
    {
        await using var host = QemuHost.Create();
        await using var qemu = await host.LaunchIdleAsync("boxed", "boxed");

        Assert.Equal("2", Status(qemu.Pid)["Seccomp"]); // 2: a filter is installed
        Assert.Contains("-sandbox", File.ReadAllLines(qemu.Layout.ArgumentsFile));
        Assert.True((await qemu.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        Assert.EndsWith(" 600", FileModes.OwnerAndMode(qemu.Layout.RamFile), StringComparison.Ordinal);
        Assert.EndsWith(" 700", FileModes.OwnerAndMode(host.Options.TmpfsDirectory), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_run_as_qemu_drops_to_that_user_after_opening_its_ram_file_and_still_answers()
    {
        if (Environment.UserName != "root" || QemuUser.Find("nobody") is not { } nobody)
        {
            Assert.Skip("needs root and a 'nobody' user to drop QEMU's privileges to");
            return;
        }

        await using var host = QemuHost.Create(o => o with { RunAs = "nobody" });
        await using var qemu = await host.LaunchIdleAsync("dropped", "dropped");

        var uids = Status(qemu.Pid)["Uid"].Split('\t', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(uids, uid => Assert.Equal(nobody.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), uid));
        Assert.Equal("2", Status(qemu.Pid)["Seccomp"]);
        Assert.True((await qemu.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        Assert.Equal($"{nobody.Uid} 600", FileModes.OwnerAndMode(qemu.Layout.RamFile));
    }

    [Fact]
    public async Task A_ram_directory_owned_by_another_user_is_refused_before_qemu_starts()
    {
        if (Environment.UserName != "root")
        {
            Assert.Skip("needs root to give the directory to another user");
            return;
        }

        await using var host = QemuHost.Create();
        using (var chown = Process.Start("chown", ["65534", host.Options.TmpfsDirectory]))
        {
            await chown.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        var refused = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => host.LaunchIdleAsync("refused", "refused"));

        Assert.Contains("belongs to uid 65534", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(host.Options.TmpfsDirectory, "ferry-refused.ram")));
    }
}
