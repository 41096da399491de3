using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Ferry.Contracts;
using Ferry.Testing;
using Grpc.Core;
using Grpc.Net.Client;

namespace Ferry.EndToEnd.Tests;

/// <summary>
/// REST requests move real, running QEMU guests between two agents on two network-namespace
/// hosts; failures before switch-over leave the guest running on its source with its memory intact.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class MigrationEndToEndTests(TwoHostCluster cluster)
{
    private const int MemoryMiB = 128;
    private static readonly string[] Terminal = ["completed", "failed", "cancelled"];

    // TCG on two shared cores is slow: generous timeouts, so that only a real fault fails a migration.
    private static object Policy(int? bandwidthMbps = null) => new
    {
        transport = "qemu", maxDowntimeMs = 500, bandwidthMbps, completionTimeoutSecondsPerGiB = 3000, progressTimeoutSeconds = 60,
    };

    /// <summary>A page-counter guest running on host-a with two vhost-user NICs, <c>NAME-0</c> and <c>NAME-1</c>, on host-a's OVS-DPDK bridge.</summary>
    private async Task<string> RunningGuest(string name)
    {
        await cluster.WaitUntilBothHostsReady();
        await cluster.Post("/api/v1/guests", new { name, memoryMiB = MemoryMiB, vcpus = 1, host = "host-a", profile = "pageCounter", vhostUserPorts = Ports(name) });
        var started = await cluster.Post($"/api/v1/guests/{name}/start", new { });
        Assert.Equal("running", started["state"]!.GetValue<string>());
        await GuestMemoryProbe.WaitUntilCountingAsync(cluster.RunRoot, "host-a", name);
        return name;
    }

    private async Task<JsonObject> WaitFor(string id, params string[] states)
    {
        JsonObject m = [];
        await cluster.WaitUntil(async () =>
        {
            m = await cluster.Get($"/api/v1/migrations/{id}");
            var state = m["state"]!.GetValue<string>();
            return states.Contains(state) || Terminal.Contains(state);
        }, $"migration {id} to reach {string.Join("/", states)}", TimeSpan.FromMinutes(4));

        // Ended elsewhere than asked: say how, instead of waiting out the timeout.
        Assert.True(states.Contains(m["state"]!.GetValue<string>()), $"migration {id} ended '{m["state"]}' while waiting for {string.Join("/", states)}: {m["failureReason"]}\n{cluster.Diagnostics}");
        return m;
    }

    private static string[] Ports(string guest) => [guest + "-0", guest + "-1"];

    /// <summary>The guest runs on <paramref name="host"/>, in exactly one QEMU, and its memory holds the invariant; its ports are on that host's switch only.</summary>
    private async Task AssertRunsIntactOn(string guest, string host)
    {
        var instances = GuestMemoryProbe.Instances(cluster.RunRoot, host, guest);
        Assert.True(instances.Count == 1, $"{guest} has {instances.Count} QEMU instances on {host}\n{cluster.Diagnostics}");
        var (invariant, runState) = await GuestMemoryProbe.CheckAsync(host, instances[0], MemoryMiB);
        Assert.Equal("running", runState);

        // The agents run as root, and their QEMUs drop to the default Ferry:Qemu:RunAs user (make deps creates it).
        var user = Ferry.Agent.Qemu.QemuUser.Find(new Ferry.Agent.Qemu.QemuLauncherOptions().RunAs);
        Assert.True(user is not null, "no ferry-qemu user on this machine: run scripts/install-deps.sh (make deps)");
        var uids = GuestMemoryProbe.QemuUids(instances[0]);
        Assert.True(uids.Count == 4 && uids.All(u => u == user.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture)), $"{guest}'s QEMU on {host} runs as uids [{string.Join(' ', uids)}], not {user.Name}'s {user.Uid}");
        Assert.True(invariant.Holds, invariant.ToString());
        var other = host == "host-a" ? "host-b" : "host-a";
        Assert.Empty(GuestMemoryProbe.Instances(cluster.RunRoot, other, guest));
        Assert.Equal(host, (await cluster.Get($"/api/v1/guests/{guest}"))["host"]!.GetValue<string>());
        Assert.Equal(Ports(guest), (await cluster.PortsAsync(host)).Where(p => p.StartsWith(guest + "-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(await cluster.PortsAsync(other), p => p.StartsWith(guest + "-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_running_guest_moves_to_the_other_host_and_its_measurements_are_recorded()
    {
        var guest = await RunningGuest("e2e-move");

        var accepted = await cluster.Post("/api/v1/migrations", new { guest, targetHost = "host-b", policy = Policy() });
        var m = await WaitFor(accepted["id"]!.GetValue<string>(), Terminal);

        Assert.True(m["state"]!.GetValue<string>() == "completed", $"{m.ToJsonString()}\n{cluster.Diagnostics}");
        Assert.Equal(
            ["queued", "scheduled", "preparingTarget", "targetReady", "running", "switchingOver", "cleaningUp", "completed"],
            m["timeline"]!.AsArray().Where(e => e!["event"] is null).Select(e => e!["state"]!.GetValue<string>()));
        var result = m["result"]!;
        Assert.Equal("qemu", result["transport"]!.GetValue<string>());

        // As make run's agents, these have cluster certificates: QEMU's stream ran over TLS, to the host the API chose.
        Assert.EndsWith("; QEMU's stream over TLS (tls-creds-x509, cluster CA, both certificates checked, the target's naming 'host-b')", result["transportReason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(result["totalTimeMs"]!.GetValue<double>() > 0);
        Assert.True(result["downtimeMs"]!.GetValue<double>() > 0);
        Assert.True(result["setupTimeMs"]!.GetValue<double>() >= 0);
        Assert.True(result["bytesTransferred"]!.GetValue<long>() > MemoryMiB * 1024L * 1024 / 4096, "the counter guest writes every page");
        Assert.True(result["operationTimeMs"]!.GetValue<double>() >= result["totalTimeMs"]!.GetValue<double>());
        Assert.True(m["guestOnTarget"]!.GetValue<bool>());
        await AssertRunsIntactOn(guest, "host-b");

        var sla = await cluster.Get("/api/v1/reports/sla?host=host-b");
        Assert.Contains(sla["pairs"]!.AsArray(), p => p!["sourceHost"]!.GetValue<string>() == "host-a" && p["completed"]!.GetValue<long>() >= 1);
    }

    [Theory]
    [InlineData("qemu")]

    // Live: the engine tracks QEMU and ovs-vswitchd, which writes the frames into the guest.
    [InlineData("native")]
    public async Task A_forwarding_guest_moves_with_traffic_flowing_and_the_network_downtime_is_recorded(string transport)
    {
        if (cluster.ForwardingImageUnavailable is { } why)
        {
            Assert.Skip(why);
        }

        // The origin document's guest: frames in at its first vhost-user NIC, forwarded out of its second.
        await cluster.WaitUntilBothHostsReady();
        const int Rate = 200;
        string guest;
        JsonNode result;
        for (int attempt = 1; ; attempt++)
        {
            guest = $"e2e-fwd-{transport[0]}{(attempt > 1 ? attempt.ToString(CultureInfo.InvariantCulture) : "")}";
            await cluster.Post("/api/v1/guests", new { name = guest, memoryMiB = MemoryMiB, vcpus = 1, host = "host-a", profile = "forwarder", vhostUserPorts = Ports(guest) });
            var started = await cluster.Post($"/api/v1/guests/{guest}/start", new { });
            Assert.Equal("running", started["state"]!.GetValue<string>());

            // Far below what the guest forwards under TCG, so that only the migration interrupts the stream; and low
            // because at 2000 frames/s the guest's virtio TX ring came out corrupt after some migrations here (docs/lab.md).
            var accepted = await cluster.Post("/api/v1/migrations", new
            {
                guest, targetHost = "host-b",
                policy = new { transport, maxDowntimeMs = 500, completionTimeoutSecondsPerGiB = 3000, progressTimeoutSeconds = 60, probeRatePps = Rate },
            });
            var m = await WaitFor(accepted["id"]!.GetValue<string>(), Terminal);

            Assert.True(m["state"]!.GetValue<string>() == "completed", $"{m.ToJsonString()}\n{cluster.Diagnostics}");
            result = m["result"]!;
            TestContext.Current.SendDiagnosticMessage(
                $"forwarding guest {guest}, {transport} ({result["transportReason"]}), with a {Rate} frames/s probe: total {result["totalTimeMs"]} ms, QEMU downtime {result["downtimeMs"]} ms, " +
                $"network downtime {result["networkDowntimeMs"]} ms, frames sent {result["framesSent"]}, lost {result["framesLost"]}, " +
                $"{result["packetRatePps"]} frames/s arrived, first announcement {result["announceMs"]} ms after the pause; {result["probeNote"]}");

            // Under TCG the forwarder itself sometimes stops passing frames (docs/lab.md, known faults: a fresh one
            // for its first seconds, a migrated one with a corrupt virtio TX ring); the probe then says the
            // stream did not come back through the guest, and measures nothing. That is the guest, not the
            // measurement under test: a fresh guest, at most twice more, and one attempt must measure.
            if (attempt < 3 && result["probeNote"]?.GetValue<string>() is { } note && note.Contains("came back through the guest", StringComparison.Ordinal))
            {
                TestContext.Current.SendDiagnosticMessage($"attempt {attempt}: {guest} did not forward ({note}); again with a fresh guest");
                await cluster.Post($"/api/v1/guests/{guest}/stop", new { });
                continue;
            }

            break;
        }

        Assert.Equal(transport, result["transport"]!.GetValue<string>());

        // A network downtime is only recorded when the stream came back through the guest at host-b.
        Assert.True(result["probeNote"] is null, $"the probe measured nothing: {result["probeNote"]}\n{cluster.Diagnostics}");
        Assert.True(result["networkDowntimeMs"]!.GetValue<double>() > 0);
        Assert.True(result["framesSent"]!.GetValue<long>() > 0);
        Assert.True(result["framesLost"]!.GetValue<long>() >= 0);
        Assert.True(result["packetRatePps"]!.GetValue<double>() > 0);
        Assert.Equal(0, result["framesCorrupt"]!.GetValue<long>());

        // The switch-over taken apart: the target's side (the guest running, OVS polling its ports) always, the
        // engine's steps natively; natively the RAM check proves every page QEMU and ovs-vswitchd wrote arrived.
        var parts = result["switchover"]!;
        // Once (a loaded machine, 2026-12-07) the parts came without portsUpMs while the probe saw the stream back:
        // the result and the agents' logs say why, next time.
        Assert.True(parts["portsUpMs"]?.GetValue<double>() >= 0, $"{result.ToJsonString()}\n{cluster.Diagnostics}");
        if (transport == "native")
        {
            Assert.True(parts["pauseMs"]!.GetValue<double>() > 0, parts.ToJsonString());
            Assert.StartsWith("RAM check: all ", result["ramCheck"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal("host-b", (await cluster.Get($"/api/v1/guests/{guest}"))["host"]!.GetValue<string>());
        Assert.DoesNotContain(await cluster.PortsAsync("host-a"), p => p.StartsWith(guest + "-", StringComparison.Ordinal) || p.StartsWith("pg-", StringComparison.Ordinal) || p.StartsWith("ps-", StringComparison.Ordinal));

        // The record is what the history API returns: the network figure is stored with the migration.
        var listed = (await cluster.Get($"/api/v1/migrations?guest={guest}"))["items"]!.AsArray().Single()!;
        Assert.Equal(result["networkDowntimeMs"]!.GetValue<double>(), listed["result"]!["networkDowntimeMs"]!.GetValue<double>());
    }

    [Fact]
    public async Task A_guest_moves_with_the_native_transport_and_the_record_says_how()
    {
        // No NICs here; the forwarding guest above moves natively with its vhost-user NICs.
        await cluster.WaitUntilBothHostsReady();
        await cluster.Post("/api/v1/guests", new { name = "e2e-native", memoryMiB = MemoryMiB, vcpus = 1, host = "host-a", profile = "pageCounter" });
        await cluster.Post("/api/v1/guests/e2e-native/start", new { });
        await GuestMemoryProbe.WaitUntilCountingAsync(cluster.RunRoot, "host-a", "e2e-native");

        var accepted = await cluster.Post("/api/v1/migrations", new
        {
            guest = "e2e-native", targetHost = "host-b",
            policy = new { transport = "native", maxDowntimeMs = 500, completionTimeoutSecondsPerGiB = 3000, progressTimeoutSeconds = 60 },
        });
        var m = await WaitFor(accepted["id"]!.GetValue<string>(), Terminal);

        Assert.True(m["state"]!.GetValue<string>() == "completed", $"{m.ToJsonString()}\n{cluster.Diagnostics}");
        var result = m["result"]!;
        Assert.Equal("native", result["transport"]!.GetValue<string>());

        // Live where a tracker covers every writer of the guest's RAM (userfaultfd write-protect on Linux 6.7+,
        // or soft-dirty); a paused copy where none does, and the reason says which.
        var reason = result["transportReason"]!.GetValue<string>();
        Assert.True(reason.Contains("live passes", StringComparison.Ordinal) || reason.Contains("paused copy", StringComparison.Ordinal), reason);
        if (reason.Contains("live passes", StringComparison.Ordinal))
        {
            Assert.True(result["passes"]!.GetValue<int>() >= 2, $"{result["passes"]} passes");
        }

        Assert.StartsWith("RAM check: all ", result["ramCheck"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(result["downtimeMs"]!.GetValue<double>() > 0);
        TestContext.Current.SendDiagnosticMessage($"native of {MemoryMiB} MiB: total {result["totalTimeMs"]} ms, downtime {result["downtimeMs"]} ms, {reason}");
        var instances = GuestMemoryProbe.Instances(cluster.RunRoot, "host-b", "e2e-native");
        Assert.Single(instances);
        var (invariant, runState) = await GuestMemoryProbe.CheckAsync("host-b", instances[0], MemoryMiB);
        Assert.Equal("running", runState);
        Assert.True(invariant.Holds, $"{invariant}\n{cluster.Diagnostics}");
        Assert.Empty(GuestMemoryProbe.Instances(cluster.RunRoot, "host-a", "e2e-native"));
    }

    [Fact]
    public async Task Cancel_while_running_leaves_the_guest_running_on_its_source_unchanged()
    {
        var guest = await RunningGuest("e2e-cancel");
        // 8 Mbit/s: the migration cannot finish before the cancel.
        var accepted = await cluster.Post("/api/v1/migrations", new { guest, targetHost = "host-b", policy = Policy(bandwidthMbps: 8) });
        var id = accepted["id"]!.GetValue<string>();
        await WaitFor(id, "running");

        await cluster.Post($"/api/v1/migrations/{id}/cancel", new { });
        var m = await WaitFor(id, Terminal);

        Assert.True(m["state"]!.GetValue<string>() == "cancelled", $"{m.ToJsonString()}\n{cluster.Diagnostics}");
        Assert.False(m["guestOnTarget"]!.GetValue<bool>());
        await AssertRunsIntactOn(guest, "host-a");
    }

    [Fact]
    public async Task A_destination_qemu_killed_mid_migration_fails_it_and_the_guest_stays_on_its_source()
    {
        var guest = await RunningGuest("e2e-kill");
        var accepted = await cluster.Post("/api/v1/migrations", new { guest, targetHost = "host-b", policy = Policy(bandwidthMbps: 8) });
        var id = accepted["id"]!.GetValue<string>();
        await WaitFor(id, "running");

        var target = GuestMemoryProbe.Instances(cluster.RunRoot, "host-b", guest).Single();
        var kill = await Programs.RunAsync("pkill", ["-KILL", "-f", Path.Combine(target, "qmp.sock")], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(0, kill.ExitCode);

        var m = await WaitFor(id, Terminal);

        Assert.True(m["state"]!.GetValue<string>() == "failed", $"{m.ToJsonString()}\n{cluster.Diagnostics}");
        Assert.False(m["guestOnTarget"]!.GetValue<bool>());
        await AssertRunsIntactOn(guest, "host-a");
    }

    [Fact]
    public async Task A_destination_agent_killed_mid_migration_fails_it_and_the_guest_stays_on_its_source()
    {
        var guest = await RunningGuest("e2e-agentkill");
        var accepted = await cluster.Post("/api/v1/migrations", new { guest, targetHost = "host-b", policy = Policy(bandwidthMbps: 8) });
        var id = accepted["id"]!.GetValue<string>();
        await WaitFor(id, "running");
        var target = GuestMemoryProbe.Instances(cluster.RunRoot, "host-b", guest).Single();

        // The target QEMU lives on, receiving, with nobody left to run the guest it would get.
        await cluster.KillAgentAsync("host-b");
        Assert.True(File.Exists(Path.Combine(target, "qmp.sock")), "the target QEMU died with its agent; this test needs it alive");
        try
        {
            var m = await WaitFor(id, Terminal);

            Assert.True(m["state"]!.GetValue<string>() == "failed", $"{m.ToJsonString()}\n{cluster.Diagnostics}");
            Assert.False(m["guestOnTarget"]!.GetValue<bool>());
        }
        finally
        {
            // The next agent of host-b finds the orphaned target and frees it.
            await cluster.RestartAgentAsync("host-b");
        }

        await cluster.WaitUntil(() => Task.FromResult(GuestMemoryProbe.Instances(cluster.RunRoot, "host-b", guest).Count == 0), "the orphaned target to be reaped");
        await AssertRunsIntactOn(guest, "host-a");
    }

    [Fact]
    public async Task A_migration_to_an_unreachable_destination_fails_and_the_guest_stays_on_its_source()
    {
        var guest = await RunningGuest("e2e-unreach");
        await cluster.SetLinkAsync("host-b", up: false);
        try
        {
            var accepted = await cluster.Post("/api/v1/migrations", new { guest, targetHost = "host-b", policy = Policy() });
            var m = await WaitFor(accepted["id"]!.GetValue<string>(), Terminal);

            Assert.True(m["state"]!.GetValue<string>() == "failed", $"{m.ToJsonString()}\n{cluster.Diagnostics}");
            Assert.False(m["guestOnTarget"]!.GetValue<bool>());
            TestContext.Current.SendDiagnosticMessage($"unreachable destination: {m["failureReason"]}");
        }
        finally
        {
            await cluster.SetLinkAsync("host-b", up: true);
        }

        await AssertRunsIntactOn(guest, "host-a");
        await cluster.WaitUntil(async () => (await cluster.Get("/api/v1/hosts/host-b"))["state"]!.GetValue<string>() == "ready", "host-b to be ready again", TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task An_api_restart_mid_migration_resumes_the_flow_and_records_the_result_once()
    {
        await cluster.WaitUntilBothHostsReady();
        await cluster.Post("/api/v1/guests", new { name = "e2e-restart", memoryMiB = MemoryMiB, vcpus = 1, host = "host-a" });
        await cluster.Post("/api/v1/guests/e2e-restart/start", new { });
        // 2 Mbit/s: long enough for the API to go away and come back while pages move.
        var accepted = await cluster.Post("/api/v1/migrations", new { guest = "e2e-restart", targetHost = "host-b", policy = Policy(bandwidthMbps: 2) });
        var id = accepted["id"]!.GetValue<string>();
        await WaitFor(id, "running");

        await cluster.RestartApiAsync();
        var m = await WaitFor(id, Terminal);

        Assert.True(m["state"]!.GetValue<string>() == "completed", $"{m.ToJsonString()}\n{cluster.Diagnostics}");
        var states = m["timeline"]!.AsArray().Where(e => e!["event"] is null).Select(e => e!["state"]!.GetValue<string>()).ToList();
        Assert.Single(states, s => s == "completed");
        Assert.Single(states, s => s == "running");
        Assert.NotNull(m["result"]);
        Assert.Equal("host-b", (await cluster.Get("/api/v1/guests/e2e-restart"))["host"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_migration_to_a_host_without_the_guests_memory_fails_before_any_agent_work()
    {
        await cluster.Post("/api/v1/guests", new { name = "e2e-huge", memoryMiB = 900_000, vcpus = 1, host = "host-a" });

        var accepted = await cluster.Post("/api/v1/migrations", new { guest = "e2e-huge" });
        var m = await WaitFor(accepted["id"]!.GetValue<string>(), Terminal);

        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Contains("MiB free memory, the guest needs 900000 MiB", m["failureReason"]!.GetValue<string>());
    }

    /// <summary>A gRPC channel to <paramref name="url"/> presenting <paramref name="certificate"/> (or none); it accepts any server certificate.</summary>
    private static GrpcChannel Channel(Uri url, X509Certificate2? certificate) => GrpcChannel.ForAddress(url, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = certificate is null ? null : [certificate],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            },
        },
    });

    [Fact]
    public async Task Callers_without_a_certificate_or_with_another_hosts_are_refused_by_the_api_and_the_agents_and_change_nothing()
    {
        await cluster.WaitUntilBothHostsReady();
        var before = await cluster.Get("/api/v1/hosts/host-b");
        var (certificate, key) = cluster.CertificateFiles("host-a");
        using var hostA = X509Certificate2.CreateFromPemFile(certificate, key);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var hijack = new RegisterRequest { HostName = "host-b", MigrationAddress = "10.66.6.6", AgentEndpoint = "https://10.66.6.6:5090" };

        // The API: no certificate is refused in the TLS handshake; host-a's cannot speak for host-b.
        using (var anonymous = Channel(cluster.ControlPlaneUrl, null))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => new ControlPlane.ControlPlaneClient(anonymous).RegisterAsync(hijack, deadline: deadline, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        }

        using (var asHostA = Channel(cluster.ControlPlaneUrl, hostA))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => new ControlPlane.ControlPlaneClient(asHostA).RegisterAsync(hijack, deadline: deadline, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        }

        // host-b's agent: no certificate is refused; host-a's may not launch a guest there.
        var agentB = new Uri($"https://{TwoHostCluster.Subnet}.3:5090");
        using (var anonymous = Channel(agentB, null))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => new AgentService.AgentServiceClient(anonymous).DescribeAsync(new DescribeRequest(), deadline: deadline, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);

            // The handshake's refusal reaches the client as Unavailable or Internal (seen both, as in the agent tests): never an answer.
            Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        }

        using (var asHostA = Channel(agentB, hostA))
        {
            var launch = new LaunchGuestRequest { Guest = new GuestSpec { Name = "e2e-intruder", MemoryMib = 32, Vcpus = 1 } };
            var refused = await Assert.ThrowsAsync<RpcException>(() => new AgentService.AgentServiceClient(asHostA).LaunchGuestAsync(launch, deadline: deadline, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        }

        // REST without the key.
        using (var noKey = new HttpClient { BaseAddress = cluster.Api.BaseAddress })
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await noKey.GetAsync("/api/v1/hosts", TestContext.Current.CancellationToken)).StatusCode);
        }

        var after = await cluster.Get("/api/v1/hosts/host-b");
        Assert.Equal(before["migrationAddress"]!.GetValue<string>(), after["migrationAddress"]!.GetValue<string>());
        Assert.Equal("ready", after["state"]!.GetValue<string>());
        await Assert.ThrowsAsync<HttpRequestException>(() => cluster.Get("/api/v1/guests/e2e-intruder"));
    }
}
