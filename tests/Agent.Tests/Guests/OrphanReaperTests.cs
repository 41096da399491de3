using Ferry.Agent.Guests;
using Ferry.Agent.Qmp;
using Ferry.Agent.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Tests.Guests;

/// <summary>
/// Real QEMU processes started under a run directory by a launcher that is not the agent's, as the
/// QEMUs of an agent that was killed are: the next agent on that directory finds and sorts them.
/// </summary>
public sealed class OrphanReaperTests
{
    [Fact]
    public async Task A_new_agent_kills_a_migration_target_left_by_its_killed_predecessor_frees_dead_ones_and_leaves_a_running_guest_alone()
    {
        await using var previousLife = QemuHost.Create();
        await using var target = await previousLife.LaunchIdleAsync("orphan", "orphan-in-0badf00d", incoming: true);
        await using var guest = await previousLife.LaunchIdleAsync("keeper", "keeper");
        await using var failedTarget = await previousLife.LaunchIdleAsync("gone", "gone-in-0badf00d", incoming: true);
        using (var process = System.Diagnostics.Process.GetProcessById(failedTarget.Pid))
        {
            // An incoming QEMU whose migration failed exits on its own; its files stay behind.
            process.Kill();
        }

        await failedTarget.Exited.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.True(File.Exists(failedTarget.Layout.RamFile));
        await using var elsewhere = QemuHost.Create();
        await using var bystander = await elsewhere.LaunchIdleAsync("orphan", "orphan-in-0badf00d", incoming: true);

        var found = OrphanReaper.Find(previousLife.Options.RunDirectory);

        Assert.Equal(["keeper", "orphan-in-0badf00d"], found.Select(o => o.Instance).Order(StringComparer.Ordinal));
        Assert.Equal(target.Layout.RamFile, found.Single(o => o.Incoming).RamFile);
        Assert.Equal(target.Pid, found.Single(o => o.Incoming).Pid);

        var reaper = new OrphanReaper(Options.Create(previousLife.Options), new GuestPorts(null, NullLogger<GuestPorts>.Instance), NullLogger<OrphanReaper>.Instance);
        await reaper.StartAsync(TestContext.Current.CancellationToken);

        await target.Exited.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(File.Exists(target.Layout.RamFile));
        Assert.False(Directory.Exists(target.Layout.Directory));
        Assert.False(File.Exists(failedTarget.Layout.RamFile));
        Assert.False(Directory.Exists(failedTarget.Layout.Directory));
        Assert.False(guest.HasExited);
        Assert.True(File.Exists(guest.Layout.RamFile));
        Assert.True((await guest.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        Assert.False(bystander.HasExited);
        Assert.Equal("inmigrate", (await bystander.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Status);
    }
}
