using System.Diagnostics;
using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
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
            Assert.Equal("dpdkvhostuser", await switchA.VsctlAsync("get", "Interface", port, "type"));

            Assert.True(switchA.IsConnected(port), $"QEMU is not connected to {port}'s vhost-user socket");
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
        Assert.True(switchB.IsConnected("vhu-m0"), "the target QEMU is not connected to vhu-m0");
        var end = (await MigrateToEndAsync(a.Client, Migrate(id, "nic-mover", target, b, policy)))[^1];
        Report("64 MiB page counter with two vhost-user NICs", end);

        Assert.Equal(MigrationPhase.Completed, end.Phase);
        var left = await switchA.PortsAsync();
        Assert.True(left.Length == 0, $"ports {string.Join(", ", left)} left on the source after a cleanup of {end.Stats.CleanupTimeMs} ms");
        Assert.Equal(["vhu-m0", "vhu-m1"], await switchB.PortsAsync());
        Assert.True(switchB.IsConnected("vhu-m1"), "the target QEMU is not connected to vhu-m1");
        var invariant = await QemuHost.StopAndCheckInvariantAsync(b.Qemu("nic-mover"));
        Assert.True(invariant.Holds, invariant.ToString());
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
        Assert.True(switchA.IsConnected("vhu-shared"), "the holder lost its connection to vhu-shared");
    }

    /// <summary>The settings that give one test agent its own switch: run directory, bridge and network namespace.</summary>
    private sealed class AgentSwitch : IAsyncDisposable
    {
        private readonly string _root;
        private readonly string _namespace;
        private readonly string _bridge;

        private AgentSwitch(string root, string name)
        {
            _root = root;
            _namespace = name;
            _bridge = name;
        }

        private string RunDirectory => Path.Combine(_root, "run");

        public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Ovs:Enabled"] = "true",
            ["Ovs:UseSystemInstance"] = "false",
            ["Ovs:RunDirectory"] = RunDirectory,
            ["Ovs:LogDirectory"] = Path.Combine(_root, "log"),
            ["Ovs:Bridge"] = _bridge,
            ["Ovs:NetworkNamespace"] = _namespace,

            // Two switches on a 2-core machine: idle PMD threads must leave the cores to the TCG guests.
            ["Ovs:PmdMaxSleepMicroseconds"] = "1000",
        };

        public static AgentSwitch Create()
        {
            var name = "fg-" + Guid.NewGuid().ToString("N")[..8];
            var root = Directory.CreateTempSubdirectory("fg").FullName;
            Run("ip", "netns", "add", name);
            return new AgentSwitch(root, name);
        }

        /// <summary>
        /// Whether a front end (QEMU) is connected to the port's socket: the kernel then lists the
        /// accepted end of the connection under the socket's path, in the network namespace of the
        /// process that connected (QEMU runs in this test's). OVS's own <c>status</c> turns
        /// "connected" only once a guest driver starts the device, which a guest without an OS never does.
        /// </summary>
        public bool IsConnected(string port)
        {
            var socket = Path.Combine(RunDirectory, port);

            // Columns: Num RefCount Protocol Flags Type St Inode Path; St 03 is SS_CONNECTED.
            return File.ReadLines("/proc/self/net/unix").Skip(1)
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Any(fields => fields.Length == 8 && fields[5] == "03" && fields[7] == socket);
        }

        public async Task<string[]> PortsAsync() =>
            (await VsctlAsync("list-ports", _bridge)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public async Task<string> VsctlAsync(params string[] arguments)
        {
            var startInfo = new ProcessStartInfo("ovs-vsctl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            startInfo.ArgumentList.Add($"--db=unix:{Path.Combine(RunDirectory, "db.sock")}");
            startInfo.ArgumentList.Add("--no-wait");
            foreach (var argument in arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }

            using var process = Process.Start(startInfo)!;
            var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var error = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.True(process.ExitCode == 0, $"ovs-vsctl {string.Join(' ', arguments)} failed: {error}");
            return output.Trim().Trim('"');
        }

        public ValueTask DisposeAsync()
        {
            // The agent is disposed first (declared later); its supervisor stopped the daemons.
            Run("ip", "netns", "delete", _namespace);
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }

            return ValueTask.CompletedTask;
        }

        private static void Run(string file, params string[] arguments)
        {
            var startInfo = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }

            using var process = Process.Start(startInfo)!;
            process.WaitForExit();
        }
    }
}
