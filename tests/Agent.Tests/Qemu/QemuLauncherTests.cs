using Microsoft.Extensions.Logging.Abstractions;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.Tests.Support;
using Ferry.Agent.TestGuest;

namespace Ferry.Agent.Tests.Qemu;

public sealed class QemuLauncherTests
{
    [Fact]
    public async Task An_idle_guest_starts_runs_and_is_gone_with_its_ram_file_after_dispose()
    {
        await using var host = QemuHost.Create();
        var qemu = await host.LaunchIdleAsync("idle", "idle-a");
        TestContext.Current.SendDiagnosticMessage($"accelerator: {host.Launcher.AcceleratorFor(GuestKind.Firmware)}");

        var status = await qemu.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken);
        Assert.True(status.Running);
        Assert.Equal("running", status.Status);
        Assert.True(File.Exists(qemu.Layout.RamFile));
        Assert.Equal(64L * 1024 * 1024, new FileInfo(qemu.Layout.RamFile).Length);

        await qemu.DisposeAsync();

        Assert.True(qemu.HasExited);
        Assert.False(File.Exists(qemu.Layout.RamFile));
        Assert.True(File.Exists(qemu.Layout.ProcessLog));
    }

    [Fact]
    public async Task Killing_qemu_completes_the_exit_task_and_fails_its_qmp_connection()
    {
        await using var host = QemuHost.Create();
        await using var qemu = await host.LaunchIdleAsync("idle", "idle-k");

        qemu.Kill();
        var code = await qemu.Exited.WaitAsync(TestContext.Current.CancellationToken);

        Assert.NotEqual(0, code);
        var closed = await qemu.Qmp.Closed.WaitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(QmpFailure.ConnectionClosed, closed.Failure);
        var failure = await Assert.ThrowsAsync<QmpException>(() => qemu.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken));
        Assert.Equal(QmpFailure.ConnectionClosed, failure.Failure);
    }

    [Fact]
    public async Task Disposing_the_launcher_leaves_every_qemu_running_with_its_monitor_free_for_the_next_agent()
    {
        await using var host = QemuHost.Create();
        var first = await host.LaunchIdleAsync("idle", "idle-1");
        var second = await host.LaunchIdleAsync("idle", "idle-2", incoming: true);
        try
        {
            await host.Launcher.DisposeAsync();

            Assert.False(first.HasExited);
            Assert.False(second.HasExited);
            Assert.Empty(host.Launcher.Running);
            var connector = new QmpConnector(new QmpClientOptions(), TimeProvider.System, NullLoggerFactory.Instance);
            await using var monitor = await connector.ConnectAsync(first.Layout.QmpSocket, TestContext.Current.CancellationToken);
            Assert.True((await monitor.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
            Assert.Equal("idle-1", QemuInstanceRecord.TryRead(first.Layout.Directory)?.Instance);
        }
        finally
        {
            first.Kill();
            second.Kill();
            await Task.WhenAll(first.Exited, second.Exited);
        }
    }

    [Fact]
    public async Task A_second_instance_with_the_same_name_is_refused_while_the_first_runs()
    {
        await using var host = QemuHost.Create();
        await using var qemu = await host.LaunchIdleAsync("idle", "same");

        await Assert.ThrowsAsync<InvalidOperationException>(() => host.LaunchIdleAsync("idle", "same"));
        Assert.False(qemu.HasExited);
    }

    [Fact]
    public async Task A_qemu_that_exits_during_start_is_reported_with_its_log()
    {
        await using var host = QemuHost.Create(o => o with { MachineType = "no-such-machine" });

        var failure = await Assert.ThrowsAsync<QemuLaunchException>(() => host.LaunchIdleAsync("idle", "broken"));

        TestContext.Current.SendDiagnosticMessage(failure.Message);
        Assert.Contains("machine", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_qemu_binary_is_a_launch_failure()
    {
        await using var host = QemuHost.Create(o => o with { QemuBinary = "/nonexistent/qemu-system-x86_64" });

        await Assert.ThrowsAsync<QemuLaunchException>(() => host.LaunchIdleAsync("idle", "missing"));
    }

    [Fact]
    public async Task An_incoming_target_waits_in_the_inmigrate_state()
    {
        await using var host = QemuHost.Create();
        await using var qemu = await host.LaunchIdleAsync("idle", "target", incoming: true);

        var status = await qemu.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken);

        Assert.False(status.Running);
        Assert.Equal("inmigrate", status.Status);
    }

    [Fact]
    public async Task The_page_counter_guest_boots_prints_its_marker_and_keeps_the_memory_invariant()
    {
        await using var host = QemuHost.Create();
        await using var qemu = await host.LaunchPageCounterAsync("counter", "counter-a", 64);

        await QemuHost.WaitUntilCountingAsync(qemu);
        var result = await QemuHost.StopAndCheckInvariantAsync(qemu);

        Assert.Contains((char)PageCounterBootSector.BootMarker, await qemu.ReadSerialLogAsync(TestContext.Current.CancellationToken));
        Assert.True(result.Holds, result.ToString());
        Assert.True(result.GuestHasRun);
        Assert.Equal(PageCounterRange.ForGuest(64).Pages, result.PagesChecked);
    }

    [Fact]
    public async Task Real_qemu_answers_typed_commands_reports_errors_and_emits_stop_and_resume_events()
    {
        await using var host = QemuHost.Create();
        await using var qemu = await host.LaunchIdleAsync("idle", "qmp");
        var qmp = qemu.Qmp;
        using var events = qmp.SubscribeEvents();
        var ct = TestContext.Current.CancellationToken;

        Assert.Equal(7, qmp.Greeting.Major);
        Assert.Equal(QmpMigrationStatus.None, (await qmp.QueryMigrateAsync(ct)).State);
        var unknown = await Assert.ThrowsAsync<QmpException>(() => qmp.ExecuteAsync("no-such-command", cancellationToken: ct));
        Assert.Equal("CommandNotFound", unknown.ErrorClass);
        await qmp.SetMigrationParametersAsync(new MigrationParameters { DowntimeLimitMs = 50, MaxBandwidthBytesPerSecond = 1_000_000_000 }, ct);
        await qmp.SetMigrationCapabilitiesAsync([new MigrationCapability(MigrationCapability.Events, true)], ct);

        await qmp.StopAsync(ct);
        Assert.False((await qmp.QueryStatusAsync(ct)).Running);
        await qmp.ContAsync(ct);
        Assert.True((await qmp.QueryStatusAsync(ct)).Running);
        await qmp.QuitAsync(ct);

        var names = new List<string>();
        await foreach (var e in events.Reader.ReadAllAsync(ct).WithCancellation(ct).ConfigureAwait(false))
        {
            names.Add(e.Name);
            if (e.Name == QmpEvent.Shutdown)
            {
                break;
            }
        }

        Assert.Equal([QmpEvent.Stop, QmpEvent.Resume, QmpEvent.Shutdown], names);
        await qemu.Exited.WaitAsync(ct);
    }

    [Fact]
    public async Task Real_qemu_accepts_the_vhost_user_nic_options_and_waits_on_its_own_socket_for_ovs()
    {
        await using var host = QemuHost.Create(o => o with { StartTimeout = TimeSpan.FromSeconds(3), StartTimeoutPerGiB = TimeSpan.Zero });
        var spec = new QemuGuestSpec("nic", "nic-a", 64, VhostUserPorts: ["vhu-nic-a"]);

        var failure = await Assert.ThrowsAsync<QemuLaunchException>(() => host.Launcher.LaunchAsync(spec, TestContext.Current.CancellationToken));

        // QEMU parsed chardev, netdev and device, made the port's socket in its instance directory and waits
        // there for the switch (dpdkvhostuserclient) to connect; no switch runs here.
        TestContext.Current.SendDiagnosticMessage(failure.Message);
        var socket = QemuInstanceLayout.For(host.Options, spec).VhostUserSocket("vhu-nic-a");
        Assert.Contains($"waiting for connection on: disconnected:unix:{socket},server=on", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopping_a_guest_quits_qemu_cleanly_over_qmp()
    {
        await using var host = QemuHost.Create();
        await using var qemu = await host.LaunchIdleAsync("idle", "stop-me");

        var code = await qemu.StopAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        Assert.True(qemu.HasExited);
    }
}
