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
    public async Task By_default_qemu_drops_to_the_ferry_qemu_user_after_opening_its_ram_file_and_still_answers()
    {
        var user = QemuUsers.Default();

        await using var host = QemuHost.Create();
        await using var qemu = await host.LaunchIdleAsync("dropped", "dropped");

        QemuUsers.AssertRunsAs(qemu.Pid, user);
        Assert.Contains("-runas", File.ReadAllLines(qemu.Layout.ArgumentsFile));
        Assert.Equal("2", Status(qemu.Pid)["Seccomp"]);
        Assert.True((await qemu.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        Assert.Equal($"{user.Uid} 600", FileModes.OwnerAndMode(qemu.Layout.RamFile));
    }

    [Fact]
    public void Without_the_run_as_user_qemu_keeps_the_agents_user_and_the_reason_is_given_unless_it_is_required()
    {
        var options = new QemuLauncherOptions { RunAs = "ferry-no-such-user" };

        var missing = QemuRunAs.Resolve(options, privileged: true);
        var notRoot = QemuRunAs.Resolve(new QemuLauncherOptions(), privileged: false);
        var off = QemuRunAs.Resolve(options with { RunAs = "" }, privileged: true);
        var strict = new QemuRunAsValidation().Validate(null, options with { RequireRunAs = true });

        Assert.Null(missing.User);
        Assert.Contains("'ferry-no-such-user' is not in /etc/passwd", missing.Problem, StringComparison.Ordinal);
        Assert.Null(notRoot.User);
        Assert.Contains("does not run as root", notRoot.Problem, StringComparison.Ordinal);
        Assert.Equal(new QemuRunAs(null, null), off);
        Assert.True(strict.Failed);
        Assert.Contains("Ferry:Qemu:RequireRunAs is set and QEMU cannot run as 'ferry-no-such-user'", strict.FailureMessage, StringComparison.Ordinal);
        Assert.True(new QemuRunAsValidation().Validate(null, options).Succeeded);
        Assert.Equal("ferry-qemu", new QemuLauncherOptions().RunAs);
    }

    [Fact]
    public void A_run_directory_the_run_as_user_cannot_reach_keeps_qemu_as_the_agents_user()
    {
        var user = QemuUsers.Default();
        using var closed = new TestDirectory();
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        File.SetUnixFileMode(closed.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var blocked = QemuRunAs.Resolve(new QemuLauncherOptions { RunDirectory = Path.Combine(closed.Path, "qemu") });
        var open = QemuRunAs.Resolve(new QemuLauncherOptions { RunDirectory = Path.Combine("/tmp", "fy-not-made-yet", "qemu") });

        Assert.Null(blocked.User);
        Assert.Contains($"{closed.Path} (mode 700)", blocked.Problem, StringComparison.Ordinal);
        Assert.Equal(user, open.User);
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
        await Programs.RunAsync("chown", ["65534", host.Options.TmpfsDirectory], cancellationToken: TestContext.Current.CancellationToken);

        var refused = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => host.LaunchIdleAsync("refused", "refused"));

        Assert.Contains("belongs to uid 65534", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(host.Options.TmpfsDirectory, "ferry-refused.ram")));
    }
}
