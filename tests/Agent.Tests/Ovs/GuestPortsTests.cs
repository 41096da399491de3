using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
using Ferry.Testing;
using Grpc.Core;
using static Ferry.Agent.Tests.Support.AgentCalls;

namespace Ferry.Agent.Tests.Ovs;

/// <summary>
/// Two real agents, each supervising its own ovsdb-server and ovs-vswitchd-dpdk (in a network
/// namespace of its own), and real QEMU guests with vhost-user NICs. What the switches hold is read
/// with ovs-vsctl straight from their databases, not through the agent.
/// </summary>
[Collection(OvsDpdkCollection.Name)]
public sealed class GuestPortsTests
{
    [Fact]
    public async Task A_guests_vhost_user_ports_exist_and_are_connected_while_it_runs_and_are_removed_when_it_stops()
    {
        await OvsTestSwitch.ReserveHugepagesAsync();
        await using var api = await FakeControlPlane.StartAsync();
        await using var switchA = AgentSwitch.Create();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url, settings: switchA.Settings);
        var guest = Idle("nic-guest");
        guest.VhostUserPorts.Add(["vhu-in", "vhu-out"]);

        var launched = await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call(120));

        Assert.Equal("running", launched.RunState);
        Assert.Equal(["vhu-in", "vhu-out"], await switchA.PortsAsync());
        foreach (var port in new[] { "vhu-in", "vhu-out" })
        {
            Assert.Equal("dpdkvhostuserclient", await switchA.VsctlAsync("get", "Interface", port, "type"));
            Assert.Equal(a.Qemu("nic-guest").Layout.VhostUserSocket(port), await switchA.VsctlAsync("get", "Interface", port, "options:vhost-server-path"));

            Assert.True(await switchA.IsConnectedAsync(port), $"QEMU is not connected to {port}'s vhost-user socket");
        }

        await a.Client.StopGuestAsync(new StopGuestRequest { Name = "nic-guest" }, Call());

        Assert.Empty(await switchA.PortsAsync());
    }

    [Fact]
    public async Task A_migrated_guests_ports_are_on_the_target_switch_before_it_starts_and_leave_the_source_switch_in_the_deferred_cleanup()
    {
        await OvsTestSwitch.ReserveHugepagesAsync();
        await using var api = await FakeControlPlane.StartAsync();
        await using var switchA = AgentSwitch.Create();
        await using var switchB = AgentSwitch.Create();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url, settings: switchA.Settings);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url, settings: switchB.Settings);
        var guest = PageCounter("nic-mover", 64);
        guest.VhostUserPorts.Add(["vhu-m0", "vhu-m1"]);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call(120));
        await QemuHost.WaitUntilCountingAsync(a.Qemu("nic-mover"));
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, Transport = Transport.Qemu };

        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call(120));

        Assert.Equal(["vhu-m0", "vhu-m1"], await switchB.PortsAsync());
        Assert.True(await switchB.IsConnectedAsync("vhu-m0"), "the target QEMU is not connected to vhu-m0");
        var end = (await MigrateToEndAsync(a.Client, Migrate(id, "nic-mover", target, b, policy)))[^1];
        Report("64 MiB page counter with two vhost-user NICs", end);

        Assert.Equal(MigrationPhase.Completed, end.Phase);
        if (Environment.IsPrivilegedProcess)
        {
            QemuUsers.AssertRunsAs(b.Qemu("nic-mover").Pid, QemuUsers.Default());
        }

        var left = await switchA.PortsAsync();
        Assert.True(left.Length == 0, $"ports {string.Join(", ", left)} left on the source after a cleanup of {end.Stats.CleanupTimeMs} ms");
        Assert.Equal(["vhu-m0", "vhu-m1"], await switchB.PortsAsync());
        Assert.True(await switchB.IsConnectedAsync("vhu-m1"), "the target QEMU is not connected to vhu-m1");
        var invariant = await QemuHost.StopAndCheckInvariantAsync(b.Qemu("nic-mover"));
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task After_ovs_vswitchd_is_killed_the_restarted_switch_reconnects_to_the_sockets_the_unprivileged_qemu_still_listens_on()
    {
        await OvsTestSwitch.ReserveHugepagesAsync();
        await using var api = await FakeControlPlane.StartAsync();
        await using var switchA = AgentSwitch.Create();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url, settings: switchA.Settings);
        var guest = Idle("nic-restart");
        guest.VhostUserPorts.Add(["vhu-r0", "vhu-r1"]);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call(120));
        var qemu = a.Qemu("nic-restart");
        if (Environment.IsPrivilegedProcess)
        {
            QemuUsers.AssertRunsAs(qemu.Pid, QemuUsers.Default());
        }

        var before = new Dictionary<string, IReadOnlySet<string>>
        {
            ["vhu-r0"] = await switchA.ConnectionsAsync("vhu-r0"),
            ["vhu-r1"] = await switchA.ConnectionsAsync("vhu-r1"),
        };
        Assert.All(before.Values, connections => Assert.Single(connections));
        var killed = switchA.VswitchdPid();

        await Programs.RunAsync("kill", ["-9", killed.ToString(System.Globalization.CultureInfo.InvariantCulture)], cancellationToken: TestContext.Current.CancellationToken);

        // The agent's supervisor starts a new ovs-vswitchd; it connects to QEMU's sockets as root. Before the
        // ports were client-mode, QEMU (dropped to its user) had to reconnect to sockets the new daemon made.
        var reconnected = new List<string>();
        for (var attempt = 0; attempt < 1200 && reconnected.Count < 2; attempt++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            reconnected.Clear();
            foreach (var (port, old) in before)
            {
                if ((await switchA.ConnectionsAsync(port)).Except(old).Any())
                {
                    reconnected.Add(port);
                }
            }
        }

        Assert.Equal(["vhu-r0", "vhu-r1"], reconnected);
        Assert.NotEqual(killed, switchA.VswitchdPid());
        Assert.False(qemu.HasExited, await qemu.ReadProcessLogAsync(TestContext.Current.CancellationToken));
        Assert.Equal("running", (await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "nic-restart" }, Call())).RunState);
    }

    [Fact]
    public async Task A_port_another_guest_holds_is_refused_and_the_holder_keeps_it()
    {
        await OvsTestSwitch.ReserveHugepagesAsync();
        await using var api = await FakeControlPlane.StartAsync();
        await using var switchA = AgentSwitch.Create();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url, settings: switchA.Settings);
        var holder = Idle("holder");
        holder.VhostUserPorts.Add("vhu-shared");
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = holder }, Call(120));
        var intruder = Idle("intruder");
        intruder.VhostUserPorts.Add("vhu-shared");

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = intruder }, Call(120)));

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("'holder'", refused.Status.Detail, StringComparison.Ordinal);
        Assert.False((await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "intruder" }, Call())).Exists);
        Assert.Equal(["vhu-shared"], await switchA.PortsAsync());
        Assert.True(await switchA.IsConnectedAsync("vhu-shared"), "the holder lost its connection to vhu-shared");
    }

    [Fact]
    public async Task A_probed_migration_to_a_host_without_a_fabric_is_refused_there_and_nothing_of_it_stays()
    {
        await OvsTestSwitch.ReserveHugepagesAsync();
        await using var api = await FakeControlPlane.StartAsync();
        await using var switchB = AgentSwitch.Create();
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url, settings: switchB.Settings);
        var guest = Idle("probed");
        guest.VhostUserPorts.Add(["vhu-p0", "vhu-p1"]);
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, Transport = Transport.Qemu, ProbeRatePps = 1000 };

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = Guid.NewGuid().ToString(), Guest = guest, Policy = policy }, Call(120)));

        // A stream that could not follow the guest here would measure nothing: the target says so and keeps nothing.
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("Ferry:Probe:FabricPort", refused.Status.Detail, StringComparison.Ordinal);
        Assert.False((await b.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "probed" }, Call())).Exists);
        Assert.Empty(await switchB.PortsAsync());
    }
}
