using System.Net;
using System.Net.Sockets;
using Ferry.Agent.Guests;
using Ferry.Agent.Qemu;
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
    public async Task A_new_agent_kills_a_migration_target_left_by_its_killed_predecessor_frees_dead_ones_and_leaves_running_guests_alone()
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

        // A target whose migration completed: started with -incoming like the orphan, but it runs the guest now.
        await using var arrived = await previousLife.LaunchIdleAsync("arrived", "arrived-in-0badf00d", incoming: true);
        await using (var departed = await elsewhere.LaunchIdleAsync("arrived", "arrived"))
        {
            await MoveAsync(departed, arrived);
        }

        var found = OrphanReaper.Find(previousLife.Options.RunDirectory);

        Assert.Equal(["arrived-in-0badf00d", "keeper", "orphan-in-0badf00d"], found.Select(o => o.Instance).Order(StringComparer.Ordinal));
        Assert.Equal(target.Layout.RamFile, found.Single(o => o.Instance == target.Spec.Instance).RamFile);
        Assert.Equal(target.Pid, found.Single(o => o.Instance == target.Spec.Instance).Pid);
        Assert.All(found, o => Assert.Equal(o.Instance.Contains("-in-", StringComparison.Ordinal), o.Incoming));

        var connector = new QmpConnector(new QmpClientOptions(), TimeProvider.System, NullLoggerFactory.Instance);
        var reaper = new OrphanReaper(Options.Create(previousLife.Options), new GuestPorts(null, NullLogger<GuestPorts>.Instance), connector, NullLogger<OrphanReaper>.Instance);
        await reaper.StartAsync(TestContext.Current.CancellationToken);

        await target.Exited.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(File.Exists(target.Layout.RamFile));
        Assert.False(Directory.Exists(target.Layout.Directory));
        Assert.False(File.Exists(failedTarget.Layout.RamFile));
        Assert.False(Directory.Exists(failedTarget.Layout.Directory));
        Assert.False(guest.HasExited);
        Assert.True(File.Exists(guest.Layout.RamFile));
        Assert.True((await guest.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        Assert.False(arrived.HasExited, "a guest that arrived by migration was killed as if its migration had failed");
        Assert.True(File.Exists(arrived.Layout.RamFile));
        Assert.True((await arrived.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        Assert.False(bystander.HasExited);
        Assert.Equal("inmigrate", (await bystander.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Status);
    }

    [Fact]
    public async Task A_process_that_merely_names_a_ferry_socket_is_not_a_guest_and_is_never_killed()
    {
        await using var previousLife = QemuHost.Create();
        var instance = Path.Combine(previousLife.Options.RunDirectory, "fake-in-0badf00d");
        Directory.CreateDirectory(instance);
        var ram = Path.Combine(previousLife.Options.TmpfsDirectory, "ferry-fake-in-0badf00d.ram");

        // Its command line reads like an incoming QEMU's: the QMP socket in an instance directory, a RAM file, -incoming.
        using var impostor = System.Diagnostics.Process.Start("bash", ["-c", "sleep 300", "qemu",
            $"socket,id=qmp0,path={Path.Combine(instance, "qmp.sock")},server=on,wait=off",
            $"memory-backend-file,id=ram0,mem-path={ram},size=64M,share=on", "-incoming", "defer"]);
        try
        {
            Assert.Empty(OrphanReaper.Find(previousLife.Options.RunDirectory));

            var connector = new QmpConnector(new QmpClientOptions(), TimeProvider.System, NullLoggerFactory.Instance);
            var reaper = new OrphanReaper(Options.Create(previousLife.Options), new GuestPorts(null, NullLogger<GuestPorts>.Instance), connector, NullLogger<OrphanReaper>.Instance);
            await reaper.StartAsync(TestContext.Current.CancellationToken);

            Assert.False(impostor.HasExited);
        }
        finally
        {
            impostor.Kill();
            await impostor.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>QEMU's own migration from <paramref name="source"/> into the waiting <paramref name="target"/>, until the target runs.</summary>
    private static async Task MoveAsync(QemuProcess source, QemuProcess target)
    {
        var ct = TestContext.Current.CancellationToken;
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var uri = MigrationUri.Tcp(IPAddress.Loopback, port);
        await target.Qmp.MigrateIncomingAsync(uri, ct);
        await source.Qmp.MigrateAsync(uri, ct);
        for (var attempt = 0; attempt < 400 && !(await target.Qmp.QueryStatusAsync(ct)).Running; attempt++)
        {
            await Task.Delay(50, ct);
        }

        Assert.True((await target.Qmp.QueryStatusAsync(ct)).Running, "the migration into the target did not complete");
    }
}
