using Ferry.Agent.Ovs;

namespace Ferry.Agent.Tests.Ovs;

/// <summary>Starting and stopping whole switches; each test runs its own, so it may tear it down.</summary>
[Collection(OvsDpdkCollection.Name)]
public sealed class OvsSwitchLifecycleTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Stopping_the_switch_leaves_no_process_tap_device_or_run_state_behind_but_keeps_the_logs()
    {
        await OvsTestSwitch.ReserveHugepagesAsync();
        await using var host = OvsTestSwitch.Create();
        await host.Switch.EnsureStartedAsync(Cancel);
        var port = await host.Switch.AddVhostUserPortAsync("vhu-stop", cancellationToken: Cancel);
        int[] pids = [host.Switch.OvsdbServerPid!.Value, host.Switch.VswitchdPid!.Value];
        Assert.True(host.TapDeviceExists());

        await host.Switch.StopAsync(Cancel);

        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} is still there"));
        Assert.False(host.TapDeviceExists(), "the bridge's tap device outlived the switch");
        Assert.False(File.Exists(port.SocketPath));
        Assert.Empty(Directory.EnumerateFileSystemEntries(host.Options.RunDirectory));
        Assert.True(File.Exists(Path.Combine(host.Options.LogDirectory, "ovs-vswitchd.log")));
        Assert.False(host.Switch.UnexpectedExit.IsCompleted);
        var status = await host.Switch.GetStatusAsync(Cancel);
        Assert.False(status.Running);
        await host.Switch.StopAsync(Cancel);
    }

    [Fact]
    public async Task A_switch_left_running_by_a_crashed_agent_is_replaced_by_the_next_one()
    {
        await OvsTestSwitch.ReserveHugepagesAsync();
        await using var crashed = OvsTestSwitch.Create();
        await crashed.Switch.EnsureStartedAsync(Cancel);
        await crashed.Switch.AddVhostUserPortAsync("vhu-old", cancellationToken: Cancel);
        int[] stale = [crashed.Switch.OvsdbServerPid!.Value, crashed.Switch.VswitchdPid!.Value];

        // The next agent finds the first one's daemons through their pid files, as after a crash.
        var next = OvsTestSwitch.Create(sameDirectoryAs: crashed);
        await next.Switch.EnsureStartedAsync(Cancel);

        Assert.All(stale, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"stale daemon {pid} survived"));
        Assert.DoesNotContain("vhu-old", await next.Switch.ListPortsAsync(Cancel));
        Assert.True((await next.Switch.GetStatusAsync(Cancel)).DpdkInitialized);
        await next.Switch.StopAsync(Cancel);
    }

    [Fact]
    public async Task A_switch_that_was_never_started_reports_so_and_refuses_ports()
    {
        await using var host = OvsTestSwitch.Create();

        var status = await host.Switch.GetStatusAsync(Cancel);

        Assert.False(status.Running);
        Assert.Contains("not been started", status.Detail, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => host.Switch.AddVhostUserPortAsync("vhu-x", cancellationToken: Cancel));
    }

    [Fact]
    public async Task A_vswitchd_that_cannot_start_fails_the_start_with_its_log()
    {
        await OvsTestSwitch.ReserveHugepagesAsync();
        var root = Directory.CreateTempSubdirectory("fo").FullName;
        var options = new OvsOptions
        {
            RunDirectory = Path.Combine(root, "run"),
            LogDirectory = Path.Combine(root, "log"),
            UseSystemInstance = false,
            Bridge = "fy-" + Guid.NewGuid().ToString("N")[..8],

            // EAL refuses an unknown option and ovs-vswitchd aborts: a start failure a real part produces on demand.
            DpdkExtraArguments = "--no-such-eal-option",
        };
        await using var @switch = new OvsSwitch(options, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<OvsSwitch>.Instance);

        var failure = await Assert.ThrowsAsync<OvsCommandException>(() => @switch.EnsureStartedAsync(Cancel));

        TestContext.Current.SendDiagnosticMessage(failure.Message);
        Assert.Contains("ovs-vswitchd", failure.Message, StringComparison.Ordinal);
        await @switch.StopAsync(Cancel);
        Directory.Delete(root, recursive: true);
    }
}
