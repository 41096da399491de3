using System.Net;
using Ferry.Api.Agents;
using Ferry.Api.Tests.Support;
using Ferry.Testing;
using Ferry.Contracts;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using DomainState = Ferry.Domain.Migrations.MigrationState;

namespace Ferry.Api.Tests.Agents;

public sealed class ControlPlaneServiceTests(PostgresServer postgres) : ApiTest(postgres)
{
    private ControlPlane.ControlPlaneClient Agent => new(GrpcChannel.ForAddress(Factory.Server.BaseAddress,
        new GrpcChannelOptions { HttpHandler = Factory.Server.CreateHandler() }));

    private static HostInventory Inventory(long freeMiB = 16384) => new()
    {
        CpuModel = "qemu64", CpuFlags = { "sse2", "avx2" }, Kvm = false, KvmReason = "no /dev/kvm", MemoryFreeMib = freeMiB,
        Hugepages = { new HugepagePool { PageSizeKib = 2048, Total = 1200, Free = 800 } }, QemuVersion = "7.2.22", DirtyTracking = { "uffd-wp" },
    };

    private async Task<string> HostStateOf(string host) =>
        (await Json(await Client.GetAsync($"/api/v1/hosts/{host}", Ct)))["state"]!.GetValue<string>();

    private async Task Register(string name, string address) =>
        await Agent.RegisterAsync(new RegisterRequest { HostName = name, MigrationAddress = address, AgentEndpoint = $"http://{address}:5090", Inventory = Inventory() }, cancellationToken: Ct);

    private async Task<string> RunningMigration()
    {
        await Register("host-a", "10.77.0.2");
        await Register("host-b", "10.77.0.3");
        await DefineGuest("vnf-1", "host-a");
        var id = (await Json(await PostMigration(new { guest = "vnf-1", targetHost = "host-b" })))["id"]!.GetValue<string>();
        await using var scope = Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Persistence.FerryDbContext>();
        var m = await db.Migrations.SingleAsync(x => x.Id == Guid.Parse(id), Ct);
        var b = await db.Hosts.SingleAsync(h => h.Name == "host-b", Ct);
        m.Schedule(b.Id, b.Name, Factory.Clock.GetUtcNow());
        m.Advance(DomainState.PreparingTarget, Factory.Clock.GetUtcNow());
        m.TargetPrepared("10.77.0.3:49152", Factory.Clock.GetUtcNow());
        m.Advance(DomainState.Running, Factory.Clock.GetUtcNow());
        await db.SaveChangesAsync(Ct);
        return id;
    }

    private static MigrationProgress Report(string id, long sequence, MigrationPhase phase) => new() { MigrationId = id, Sequence = sequence, Phase = phase };

    [Fact]
    public async Task A_registering_agent_creates_its_host_with_the_inventory()
    {
        var reply = await Agent.RegisterAsync(new RegisterRequest
        {
            HostName = "host-a", MigrationAddress = "10.77.0.2", AgentEndpoint = "http://10.77.0.2:5090", Inventory = Inventory(),
        }, cancellationToken: Ct);

        var host = await Json(await Client.GetAsync("/api/v1/hosts/host-a", Ct));
        Assert.Equal(reply.HostId, host["id"]!.GetValue<string>());
        Assert.Equal("ready", host["state"]!.GetValue<string>());
        Assert.Equal("10.77.0.2", host["migrationAddress"]!.GetValue<string>());
        Assert.Equal("7.2.22", host["capabilities"]!["qemuVersion"]!.GetValue<string>());
        Assert.Equal(["uffd-wp"], host["capabilities"]!["dirtyTracking"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.NotNull(host["lastHeartbeatAt"]);
        Assert.True(reply.HeartbeatIntervalSeconds > 0);
    }

    [Fact]
    public async Task A_registering_agent_that_does_not_run_a_guest_the_api_believes_running_gets_it_marked_stopped()
    {
        await Register("host-a", "10.77.0.2");
        foreach (var name in new[] { "gone", "alive", "moving" })
        {
            await DefineGuest(name, "host-a");
        }

        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Persistence.FerryDbContext>();
            foreach (var guest in await db.Guests.ToListAsync(Ct))
            {
                guest.Observe(guest.Name == "moving" ? Ferry.Domain.Guests.GuestState.Migrating : Ferry.Domain.Guests.GuestState.Running);
            }

            await db.SaveChangesAsync(Ct);
        }

        // The agent restarted: it runs "alive" (its QEMU survived and it knows it), not "gone".
        await Agent.RegisterAsync(new RegisterRequest
        {
            HostName = "host-a", MigrationAddress = "10.77.0.2", AgentEndpoint = "http://10.77.0.2:5090", Inventory = Inventory(),
            Guests = { new GuestStatus { Name = "alive", RunState = "running" } },
        }, cancellationToken: Ct);

        Assert.Equal("stopped", (await Json(await Client.GetAsync("/api/v1/guests/gone", Ct)))["state"]!.GetValue<string>());
        Assert.Equal("running", (await Json(await Client.GetAsync("/api/v1/guests/alive", Ct)))["state"]!.GetValue<string>());
        Assert.Equal("migrating", (await Json(await Client.GetAsync("/api/v1/guests/moving", Ct)))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Registering_again_updates_the_same_host()
    {
        await Register("host-a", "10.77.0.2");
        await Register("host-a", "10.77.0.9");

        var hosts = await Json(await Client.GetAsync("/api/v1/hosts", Ct));
        Assert.Single(hosts["items"]!.AsArray());
        Assert.Equal("10.77.0.9", hosts["items"]![0]!["migrationAddress"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("a,b", "10.77.0.2", "http://10.77.0.2:5090")]
    [InlineData("host-a", "not-an-ip", "http://10.77.0.2:5090")]
    [InlineData("host-a", "10.77.0.2", "exec:/bin/sh")]
    public async Task A_registration_with_hostile_fields_is_refused_and_writes_nothing(string name, string address, string endpoint)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Agent.RegisterAsync(
            new RegisterRequest { HostName = name, MigrationAddress = address, AgentEndpoint = endpoint }, cancellationToken: Ct).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal(0, (await CountRows()).Hosts);
    }

    [Fact]
    public async Task A_heartbeat_from_an_unregistered_host_is_refused()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Agent.HeartbeatAsync(new HeartbeatRequest { HostName = "ghost" }, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task A_host_whose_agent_goes_silent_is_marked_down_and_comes_back_with_a_heartbeat()
    {
        await Register("host-a", "10.77.0.2");
        var monitor = Factory.Services.GetServices<IHostedService>().OfType<HostMonitor>().Single();

        Factory.Clock.Advance(TimeSpan.FromSeconds(10));
        await monitor.SweepAsync(Ct);
        Assert.Equal("ready", await HostStateOf("host-a"));

        Factory.Clock.Advance(TimeSpan.FromSeconds(10));
        await monitor.SweepAsync(Ct);
        Assert.Equal("down", await HostStateOf("host-a"));

        await Agent.HeartbeatAsync(new HeartbeatRequest { HostName = "host-a", Inventory = Inventory() }, cancellationToken: Ct);
        Assert.Equal("ready", await HostStateOf("host-a"));
    }

    [Fact]
    public async Task An_api_started_after_its_hosts_last_heartbeat_gives_them_the_allowance_before_marking_them_down()
    {
        await Register("host-a", "10.77.0.2");
        // The API was down for a minute: the host's last heartbeat is older than the allowance (3 x 5 s) when a new
        // monitor starts, as after a restart. Set in the row, not by advancing the clock: the test API's own monitor
        // ticks on the same clock and would sweep too.
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var minuteAgo = Factory.Clock.GetUtcNow() - TimeSpan.FromMinutes(1);
            await scope.ServiceProvider.GetRequiredService<Persistence.FerryDbContext>().Hosts
                .Where(h => h.Name == "host-a").ExecuteUpdateAsync(s => s.SetProperty(h => h.LastHeartbeatAt, minuteAgo), Ct);
        }

        var restarted = ActivatorUtilities.CreateInstance<HostMonitor>(Factory.Services);

        Factory.Clock.Advance(TimeSpan.FromSeconds(10));
        await restarted.SweepAsync(Ct);
        Assert.Equal("ready", await HostStateOf("host-a"));

        Factory.Clock.Advance(TimeSpan.FromSeconds(5));
        await restarted.SweepAsync(Ct);
        Assert.Equal("down", await HostStateOf("host-a"));
    }

    [Fact]
    public async Task Heartbeats_arriving_together_are_each_written_to_their_own_host_and_an_unregistered_one_among_them_is_refused()
    {
        var names = Enumerable.Range(0, 24).Select(i => $"host-{i}").ToList();
        for (var i = 0; i < names.Count; i++)
        {
            await Register(names[i], $"10.77.1.{i + 2}");
        }

        var monitor = Factory.Services.GetServices<IHostedService>().OfType<HostMonitor>().Single();
        Factory.Clock.Advance(TimeSpan.FromSeconds(20));
        await monitor.SweepAsync(Ct);
        var at = Factory.Clock.GetUtcNow();

        // Sent at once, so that they are written in groups: each host must get its own time, state and inventory.
        var beats = names.Select((name, i) =>
            Agent.HeartbeatAsync(new HeartbeatRequest { HostName = name, Inventory = Inventory(freeMiB: 1000 + i) }, cancellationToken: Ct).ResponseAsync).ToList();
        var ghost = Assert.ThrowsAsync<RpcException>(() => Agent.HeartbeatAsync(new HeartbeatRequest { HostName = "ghost" }, cancellationToken: Ct).ResponseAsync);
        await Task.WhenAll(beats);

        Assert.Equal(StatusCode.NotFound, (await ghost).StatusCode);
        await using var scope = Factory.Services.CreateAsyncScope();
        var hosts = await scope.ServiceProvider.GetRequiredService<Persistence.FerryDbContext>().Hosts.AsNoTracking().ToDictionaryAsync(h => h.Name, Ct);
        Assert.Equal(names.Count, hosts.Count);
        for (var i = 0; i < names.Count; i++)
        {
            var host = hosts[names[i]];
            Assert.Equal(Domain.Hosts.HostState.Ready, host.State);
            Assert.Equal(at.UtcTicks / 10, host.LastHeartbeatAt!.Value.UtcTicks / 10); // PostgreSQL keeps microseconds
            Assert.Equal(1000 + i, host.Capabilities.MemoryFreeMiB);
        }
    }

    [Fact]
    public async Task Reports_walk_the_migration_to_completed_with_its_result_and_replays_change_nothing()
    {
        var id = await RunningMigration();
        var completed = Report(id, 4, MigrationPhase.Completed);
        completed.Stats = new MigrationStats
        {
            Transport = Transport.Qemu, TotalTimeMs = 420, DowntimeMs = 6, SetupTimeMs = 3, BytesTransferred = 1 << 20, ZeroPages = 262000,
            NormalPages = 144, Passes = 2, ThroughputMbps = 9000, CleanupTimeMs = 12, TransportReason = "auto: no dirty tracker for QEMU guests here",
        };

        await Agent.ReportProgressAsync(Report(id, 1, MigrationPhase.Running), cancellationToken: Ct);
        await Agent.ReportProgressAsync(Report(id, 2, MigrationPhase.SwitchingOver), cancellationToken: Ct);
        await Agent.ReportProgressAsync(Report(id, 3, MigrationPhase.CleaningUp), cancellationToken: Ct);
        var ack = await Agent.ReportResultAsync(completed, cancellationToken: Ct);
        var first = await GetMigration(id);
        await Agent.ReportProgressAsync(Report(id, 2, MigrationPhase.SwitchingOver), cancellationToken: Ct);
        await Agent.ReportResultAsync(completed, cancellationToken: Ct);
        var again = await GetMigration(id);

        Assert.True(ack.Known);
        Assert.Equal("completed", first["state"]!.GetValue<string>());
        Assert.Equal(420, first["result"]!["totalTimeMs"]!.GetValue<double>());
        Assert.Equal(6, first["result"]!["downtimeMs"]!.GetValue<double>());
        Assert.Equal(12, first["result"]!["cleanupTimeMs"]!.GetValue<double>());
        Assert.True(first["result"]!["slaMet"]!.GetValue<bool>());
        Assert.Equal(first.ToJsonString(), again.ToJsonString());
        var guest = await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct));
        Assert.Equal("host-b", guest["host"]!.GetValue<string>());
        var sla = await Json(await Client.GetAsync("/api/v1/reports/sla", Ct));
        Assert.Equal(1, sla["overall"]!["completed"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_failure_before_switchover_leaves_the_guest_on_the_source()
    {
        var id = await RunningMigration();
        var failed = Report(id, 1, MigrationPhase.Failed);
        failed.FailureReason = "target QEMU exited (killed)";

        await Agent.ReportResultAsync(failed, cancellationToken: Ct);

        var m = await GetMigration(id);
        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Equal("target QEMU exited (killed)", m["failureReason"]!.GetValue<string>());
        Assert.False(m["guestOnTarget"]!.GetValue<bool>());
        Assert.Equal("host-a", (await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct)))["host"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_cancel_that_lost_the_race_to_switchover_ends_completed_on_the_target()
    {
        var id = await RunningMigration();
        Assert.Equal(HttpStatusCode.Accepted, (await Client.PostAsync($"/api/v1/migrations/{id}/cancel", null, Ct)).StatusCode);
        var completed = Report(id, 2, MigrationPhase.Completed);
        completed.Stats = new MigrationStats { Transport = Transport.Qemu, TotalTimeMs = 500, DowntimeMs = 8 };

        await Agent.ReportProgressAsync(Report(id, 1, MigrationPhase.SwitchingOver), cancellationToken: Ct);
        await Agent.ReportResultAsync(completed, cancellationToken: Ct);

        var m = await GetMigration(id);
        Assert.Equal("completed", m["state"]!.GetValue<string>());
        Assert.True(m["guestOnTarget"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_cancelled_report_ends_the_migration_only_after_the_target_is_torn_down(bool cancelRequested)
    {
        var id = await RunningMigration();
        if (cancelRequested)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await Client.PostAsync($"/api/v1/migrations/{id}/cancel", null, Ct)).StatusCode);
        }

        await Agent.ReportResultAsync(Report(id, 1, MigrationPhase.Cancelled), cancellationToken: Ct);

        // The source has stopped, the target may still hold a QEMU and its ports: not "cancelled" yet.
        Assert.Equal("cancelling", (await GetMigration(id))["state"]!.GetValue<string>());
        Assert.DoesNotContain(Guid.Parse(id), Factory.Dispatcher.Aborts);

        await Factory.Scheduler.RunOnceAsync(Ct);

        Assert.Contains(Guid.Parse(id), Factory.Dispatcher.Aborts);
        var m = await GetMigration(id);
        Assert.Equal("cancelled", m["state"]!.GetValue<string>());
        Assert.False(m["guestOnTarget"]!.GetValue<bool>());
        Assert.Equal("host-a", (await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct)))["host"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_report_about_an_unknown_migration_is_acknowledged_as_unknown()
    {
        var ack = await Agent.ReportResultAsync(Report(Guid.NewGuid().ToString(), 1, MigrationPhase.Completed), cancellationToken: Ct);
        Assert.False(ack.Known);
    }
}
