using Ferry.Agent.Inventory;
using Ferry.Agent.Ovs;
using Ferry.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ferry.Agent.Tests.Ovs;

/// <summary>The agent's switch against the real ovsdb-server and ovs-vswitchd-dpdk, started once for the class.</summary>
[Collection(OvsDpdkCollection.Name)]
public sealed class OvsSwitchTests(OvsSwitchFixture fixture) : IClassFixture<OvsSwitchFixture>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private OvsTestSwitch Host => fixture.Host;

    private OvsSwitch Switch => fixture.Host.Switch;

    [Fact]
    public async Task Dpdk_is_initialised_in_the_agents_own_switch()
    {
        var status = await Switch.GetStatusAsync(Cancel);

        // The kernel counts each process's hugetlb memory; the free-page count of the pool moves with everything else on the host.
        var hugetlbKiB = (await File.ReadAllLinesAsync($"/proc/{Switch.VswitchdPid}/status", Cancel))
            .Single(line => line.StartsWith("HugetlbPages:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var hugetlbMiB = long.Parse(hugetlbKiB, System.Globalization.CultureInfo.InvariantCulture) / 1024;
        TestContext.Current.SendDiagnosticMessage(
            $"DPDK init {Switch.DpdkInitTime?.TotalMilliseconds:F0} ms, ovs-vswitchd holds {hugetlbMiB} MiB of hugepages (dpdk-socket-mem {Host.Options.DpdkSocketMem}), {status.DpdkVersion}");

        Assert.True(status.Running, status.Detail);
        Assert.False(status.SystemInstance);
        Assert.True(status.DpdkInitialized);
        Assert.StartsWith("DPDK ", status.DpdkVersion, StringComparison.Ordinal);
        Assert.Equal("true", await Host.VsctlAsync("get", "Open_vSwitch", ".", "dpdk_initialized"));
        Assert.True(hugetlbMiB >= long.Parse(Host.Options.DpdkSocketMem, System.Globalization.CultureInfo.InvariantCulture), $"ovs-vswitchd holds only {hugetlbMiB} MiB of hugepages");
    }

    [Fact]
    public async Task The_bridge_exists_with_the_netdev_datapath()
    {
        // br-exists exits 2 for a missing bridge, which VsctlAsync turns into a failure.
        await Host.VsctlAsync("br-exists", Host.Options.Bridge);
        Assert.Equal("netdev", await Host.VsctlAsync("get", "Bridge", Host.Options.Bridge, "datapath_type"));
    }

    [Fact]
    public async Task Ensuring_a_started_switch_again_starts_nothing_new()
    {
        var ovsdb = Switch.OvsdbServerPid;
        var vswitchd = Switch.VswitchdPid;

        await Switch.EnsureStartedAsync(Cancel);

        Assert.Equal(ovsdb, Switch.OvsdbServerPid);
        Assert.Equal(vswitchd, Switch.VswitchdPid);
        Assert.Equal(Host.Options.Bridge, await Host.VsctlAsync("list-br"));
    }

    [Fact]
    public async Task Adding_a_vhost_user_port_creates_its_socket_and_lists_it_on_the_bridge()
    {
        var port = await Switch.AddVhostUserPortAsync("vhu-add", cancellationToken: Cancel);

        Assert.Equal(Path.Combine(Host.Options.RunDirectory, "vhu-add"), port.SocketPath);
        Assert.Equal(Switch.VhostUserSocketDirectory, Path.GetDirectoryName(port.SocketPath));
        Assert.True(File.Exists(port.SocketPath), $"no socket at {port.SocketPath}");
        Assert.True(port.OpenFlowPort > 0);
        Assert.Contains("vhu-add", (await Host.VsctlAsync("list-ports", Host.Options.Bridge)).Split('\n'));
        Assert.Equal("dpdkvhostuser", await Host.VsctlAsync("get", "Interface", "vhu-add", "type"));
        Assert.Contains("vhu-add", await Switch.ListPortsAsync(Cancel));
    }

    [Fact]
    public async Task A_ports_statistics_are_its_ovs_counters()
    {
        await Switch.AddInternalPortAsync("st-count", Cancel);

        var statistics = await Switch.GetInterfaceStatisticsAsync("st-count", Cancel);

        foreach (var counter in new[] { "rx_packets", "tx_packets", "rx_bytes", "tx_bytes" })
        {
            Assert.True(statistics.TryGetValue(counter, out var value) && long.TryParse(value, out _), $"{counter} missing or not a number in {string.Join(", ", statistics)}");
        }

        await Switch.RemovePortAsync("st-count", Cancel);
    }

    [Fact]
    public async Task Adding_the_same_port_twice_keeps_one_port_with_the_same_socket()
    {
        var first = await Switch.AddVhostUserPortAsync("vhu-twice", cancellationToken: Cancel);
        var second = await Switch.AddVhostUserPortAsync("vhu-twice", cancellationToken: Cancel);

        Assert.Equal(first, second);
        Assert.Single((await Host.VsctlAsync("list-ports", Host.Options.Bridge)).Split('\n'), p => p == "vhu-twice");
        Assert.True(File.Exists(second.SocketPath));
    }

    [Fact]
    public async Task Removing_a_port_removes_it_and_its_socket_and_removing_it_again_is_a_no_op()
    {
        var port = await Switch.AddVhostUserPortAsync("vhu-rm", cancellationToken: Cancel);

        await Switch.RemovePortAsync("vhu-rm", Cancel);

        Assert.DoesNotContain("vhu-rm", (await Host.VsctlAsync("list-ports", Host.Options.Bridge)).Split('\n'));
        Assert.False(File.Exists(port.SocketPath), $"socket {port.SocketPath} outlived its port");
        await Switch.RemovePortAsync("vhu-rm", Cancel);
        Assert.DoesNotContain("vhu-rm", await Switch.ListPortsAsync(Cancel));
    }

    [Fact]
    public async Task A_client_mode_port_points_ovs_at_the_socket_qemu_will_listen_on()
    {
        var port = await Switch.AddVhostUserPortAsync("vhc-client", VhostUserMode.OvsClient, cancellationToken: Cancel);

        Assert.Equal("dpdkvhostuserclient", await Host.VsctlAsync("get", "Interface", "vhc-client", "type"));
        Assert.Equal($"\"{port.SocketPath}\"", await Host.VsctlAsync("get", "Interface", "vhc-client", "options:vhost-server-path"));

        // OVS connects to QEMU's socket; it must not have created one itself.
        Assert.False(File.Exists(port.SocketPath));
        await Switch.RemovePortAsync("vhc-client", Cancel);
    }

    [Fact]
    public async Task A_client_mode_ports_socket_may_be_in_qemus_own_directory_and_a_server_mode_port_takes_no_directory()
    {
        var runs = Switch.VsctlRuns;
        await Assert.ThrowsAsync<ArgumentException>(() => Switch.AddVhostUserPortAsync("vhc-dir", VhostUserMode.OvsServer, "/run/elsewhere", Cancel));
        await Assert.ThrowsAsync<ArgumentException>(() => Switch.AddVhostUserPortAsync("vhc-dir", VhostUserMode.OvsClient, "relative/dir", Cancel));
        Assert.Equal(runs, Switch.VsctlRuns);

        var port = await Switch.AddVhostUserPortAsync("vhc-dir", VhostUserMode.OvsClient, "/run/ferry-test-qemu/inst", Cancel);

        Assert.Equal("/run/ferry-test-qemu/inst/vhc-dir", port.SocketPath);
        Assert.Equal("\"/run/ferry-test-qemu/inst/vhc-dir\"", await Host.VsctlAsync("get", "Interface", "vhc-dir", "options:vhost-server-path"));
        await Switch.RemovePortAsync("vhc-dir", Cancel);
    }

    [Fact]
    public async Task A_port_switched_from_client_to_server_mode_loses_its_server_path()
    {
        await Switch.AddVhostUserPortAsync("vhu-mode", VhostUserMode.OvsClient, cancellationToken: Cancel);

        var port = await Switch.AddVhostUserPortAsync("vhu-mode", VhostUserMode.OvsServer, cancellationToken: Cancel);

        Assert.Equal("dpdkvhostuser", await Host.VsctlAsync("get", "Interface", "vhu-mode", "type"));
        Assert.Equal("{}", await Host.VsctlAsync("get", "Interface", "vhu-mode", "options"));
        Assert.True(File.Exists(port.SocketPath));
        await Switch.RemovePortAsync("vhu-mode", Cancel);
    }

    [Theory]
    [InlineData("a,b")]
    [InlineData("../x")]
    [InlineData("x;rm")]
    [InlineData("abcdefghijklmnop")]
    [InlineData("a\0b")]
    [InlineData("")]
    [InlineData("Vhu")]
    [InlineData("a b")]
    [InlineData("type=internal")]
    public async Task A_hostile_port_name_is_refused_before_ovs_vsctl_runs(string name)
    {
        var runs = Switch.VsctlRuns;

        await Assert.ThrowsAsync<ArgumentException>(() => Switch.AddVhostUserPortAsync(name, cancellationToken: Cancel));
        await Assert.ThrowsAsync<ArgumentException>(() => Switch.AddVhostUserPortAsync(name, VhostUserMode.OvsClient, cancellationToken: Cancel));
        await Assert.ThrowsAsync<ArgumentException>(() => Switch.RemovePortAsync(name, Cancel));
        await Assert.ThrowsAsync<ArgumentException>(() => Switch.GetInterfaceStatisticsAsync(name, Cancel));

        Assert.Equal(runs, Switch.VsctlRuns);
    }

    [Fact]
    public async Task Killing_ovs_vswitchd_is_reported_and_ensuring_the_switch_brings_it_back_with_its_ports()
    {
        var port = await Switch.AddVhostUserPortAsync("vhu-crash", cancellationToken: Cancel);
        var pid = Switch.VswitchdPid;
        Assert.False(Switch.UnexpectedExit.IsCompleted);

        Switch.KillDaemonForTest("ovs-vswitchd");
        var exit = await Switch.UnexpectedExit.WaitAsync(Cancel);

        Assert.Equal("ovs-vswitchd", exit.Daemon);
        Assert.Equal(pid, exit.Pid);
        Assert.NotEqual(0, exit.ExitCode);
        Assert.False((await Switch.GetStatusAsync(Cancel)).Running);
        await Assert.ThrowsAsync<OvsCommandException>(() => Switch.AddVhostUserPortAsync("vhu-after", cancellationToken: Cancel));

        await Switch.EnsureStartedAsync(Cancel);

        Assert.NotEqual(pid, Switch.VswitchdPid);
        Assert.False(Switch.UnexpectedExit.IsCompleted);
        var status = await Switch.GetStatusAsync(Cancel);
        Assert.True(status.Running && status.DpdkInitialized, status.Detail);
        Assert.Contains("vhu-crash", await Switch.ListPortsAsync(Cancel));
        Assert.True(File.Exists(port.SocketPath), $"the restarted ovs-vswitchd did not recreate the port's socket: {string.Join('\n', File.ReadLines(Path.Combine(Host.Options.LogDirectory, "ovs-vswitchd.log")).TakeLast(15))}");
        await Switch.RemovePortAsync("vhu-crash", Cancel);
    }

    [Fact]
    public async Task The_host_inventory_reports_the_running_switchs_dpdk_state()
    {
        var inventory = await new LinuxHostInventory(new InventoryOptions(), Switch, TimeProvider.System, NullLogger<LinuxHostInventory>.Instance)
            .CollectAsync(Cancel);

        Assert.NotNull(inventory.Ovs.Switch);
        Assert.True(inventory.Ovs.Switch.Running, inventory.Ovs.Switch.Detail);
        Assert.True(inventory.Ovs.Switch.DpdkInitialized);
        Assert.Equal($"DPDK {inventory.Ovs.DpdkBuildVersion}", inventory.Ovs.Switch.DpdkVersion);
        Assert.Contains(inventory.Hugepages, pool => pool.PageSizeKiB == 2048 && pool.Total >= 128);
    }

    [Fact]
    public async Task Killing_ovsdb_server_is_reported_and_ensuring_the_switch_restarts_it_on_the_same_database()
    {
        await Switch.AddVhostUserPortAsync("vhu-db", cancellationToken: Cancel);
        var ovsdb = Switch.OvsdbServerPid;
        var vswitchd = Switch.VswitchdPid;

        Switch.KillDaemonForTest("ovsdb-server");
        var exit = await Switch.UnexpectedExit.WaitAsync(Cancel);

        Assert.Equal("ovsdb-server", exit.Daemon);
        Assert.Equal(ovsdb, exit.Pid);
        await Switch.EnsureStartedAsync(Cancel);
        Assert.NotEqual(ovsdb, Switch.OvsdbServerPid);
        Assert.Equal(vswitchd, Switch.VswitchdPid);
        Assert.Contains("vhu-db", await Switch.ListPortsAsync(Cancel));

        // A port added now needs ovs-vswitchd to have reconnected to the new ovsdb-server and applied it.
        var port = await Switch.AddVhostUserPortAsync("vhu-db2", cancellationToken: Cancel);
        Assert.True(File.Exists(port.SocketPath));
        await Switch.RemovePortAsync("vhu-db", Cancel);
        await Switch.RemovePortAsync("vhu-db2", Cancel);
    }

    [Fact]
    public async Task A_switch_that_finds_an_answering_system_database_uses_that_ovs_and_starts_nothing()
    {
        using var directory = new Support.TestDirectory();
        var options = new OvsOptions
        {
            RunDirectory = directory.File("run"),
            LogDirectory = directory.File("log"),
            SystemDbSocket = Path.Combine(Host.Options.RunDirectory, "db.sock"),
            Bridge = "fy-" + Guid.NewGuid().ToString("N")[..8],
        };
        var other = new OvsSwitch(options, TimeProvider.System, NullLogger<OvsSwitch>.Instance);
        try
        {
            await other.EnsureStartedAsync(Cancel);

            var status = await other.GetStatusAsync(Cancel);
            Assert.True(status.SystemInstance);
            Assert.True(status.Running && status.DpdkInitialized, status.Detail);
            Assert.Null(other.OvsdbServerPid);
            Assert.Null(other.VswitchdPid);
            Assert.Equal(Host.Options.RunDirectory, other.VhostUserSocketDirectory);
            var port = await other.AddVhostUserPortAsync("vhu-sys", cancellationToken: Cancel);
            Assert.Equal(Path.Combine(Host.Options.RunDirectory, "vhu-sys"), port.SocketPath);
            Assert.True(File.Exists(port.SocketPath));
            await other.RemovePortAsync("vhu-sys", Cancel);

            await other.StopAsync(Cancel);

            Assert.False(Directory.Exists(options.RunDirectory), "a switch using the system OVS created its own run directory");
            Assert.True((await Switch.GetStatusAsync(Cancel)).Running);
            Assert.False(Switch.UnexpectedExit.IsCompleted);
        }
        finally
        {
            await other.DisposeAsync();
            await Host.VsctlAsync("--if-exists", "del-br", options.Bridge);
        }
    }

    [Fact]
    public async Task Only_a_socket_that_answers_an_ovsdb_echo_counts_as_a_running_ovsdb()
    {
        using var directory = new Support.TestDirectory();
        var plainFile = directory.File("file.sock");
        await File.WriteAllTextAsync(plainFile, "not a socket", Cancel);
        var silent = directory.File("silent.sock");
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(silent));
        listener.Listen();
        var closeOnAccept = Task.Run(async () => (await listener.AcceptAsync(Cancel)).Dispose(), Cancel);
        var limit = TimeSpan.FromSeconds(5);

        Assert.True(await OvsdbEcho.AnswersAsync(Path.Combine(Host.Options.RunDirectory, "db.sock"), limit, TimeProvider.System, Cancel));
        Assert.False(await OvsdbEcho.AnswersAsync(directory.File("missing.sock"), limit, TimeProvider.System, Cancel));
        Assert.False(await OvsdbEcho.AnswersAsync(plainFile, limit, TimeProvider.System, Cancel));
        Assert.False(await OvsdbEcho.AnswersAsync(silent, limit, TimeProvider.System, Cancel));
        await closeOnAccept;
    }

    [Fact]
    public async Task Rules_tagged_with_a_cookie_match_on_port_source_mac_and_ethertype_and_go_together()
    {
        await Switch.AddInternalPortAsync("st-a", Cancel);
        await Switch.AddInternalPortAsync("st-b", Cancel);
        const ulong Cookie = 0xF1_0000_0000_ABCDUL;
        var mac = System.Net.NetworkInformation.PhysicalAddress.Parse("02-46-52-59-00-07");

        await Switch.SteerAsync(Cookie, [new("st-a", ["st-b"], FromAddress: mac), SteeringRule.Drop("st-b"), new("st-a", [], EtherType: 0x88B5) { Fallback = true }], Cancel);
        var flows = await DumpFlowsAsync();
        await Switch.RemoveSteeringAsync(Cookie, Cancel);
        var after = await DumpFlowsAsync();

        var ours = flows.Where(f => f.Contains("cookie=0xf100000000abcd", StringComparison.Ordinal)).ToList();
        Assert.True(ours.Count == 3, string.Join("\n", flows));
        Assert.Contains(ours, f => f.Contains("priority=1002", StringComparison.Ordinal) && f.Contains("dl_src=02:46:52:59:00:07", StringComparison.Ordinal) && f.Contains("actions=output:", StringComparison.Ordinal));
        Assert.Contains(ours, f => f.Contains("priority=1000", StringComparison.Ordinal) && f.Contains("actions=drop", StringComparison.Ordinal));
        Assert.Contains(ours, f => f.Contains("priority=900", StringComparison.Ordinal) && f.Contains("dl_type=0x88b5", StringComparison.Ordinal));
        Assert.DoesNotContain(after, f => f.Contains("cookie=0xf100000000abcd", StringComparison.Ordinal));
        await Switch.RemovePortAsync("st-a", Cancel);
        await Switch.RemovePortAsync("st-b", Cancel);
    }

    /// <summary>The bridge's OpenFlow rules as ovs-ofctl prints them, read past the switch's own code.</summary>
    private async Task<string[]> DumpFlowsAsync()
    {
        var run = await Programs.RunAsync("ovs-ofctl", ["dump-flows", "unix:" + Path.Combine(Host.Options.RunDirectory, Host.Options.Bridge + ".mgmt")], cancellationToken: Cancel);
        Assert.True(run.Succeeded, $"ovs-ofctl dump-flows failed: {run.Error}");
        return run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
