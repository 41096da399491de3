using Ferry.Api.Tests.Infrastructure;
using Ferry.Contracts;
using Ferry.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using System.Text.Json.Nodes;

namespace Ferry.Api.Tests.Agents;

/// <summary>The API's half of the migration flow, against agents that answer over real gRPC as each test needs.</summary>
public sealed class AgentDispatcherTests(PostgresServer postgres) : ApiTest(postgres)
{
    private readonly FakeAgent _source = new();
    private readonly FakeAgent _target = new();

    protected override bool RealDispatcher => true;

    public override async ValueTask InitializeAsync()
    {
        await _source.StartAsync();
        await _target.StartAsync();
        await base.InitializeAsync();
        var plane = new ControlPlane.ControlPlaneClient(GrpcChannel.ForAddress(Factory.Server.BaseAddress,
            new GrpcChannelOptions { HttpHandler = Factory.Server.CreateHandler() }));
        var inventory = new HostInventory { CpuModel = "qemu64", MemoryFreeMib = 16384 };
        await plane.RegisterAsync(new RegisterRequest { HostName = "host-a", MigrationAddress = "10.0.0.1", AgentEndpoint = _source.Endpoint, Inventory = inventory }, cancellationToken: Ct);
        await plane.RegisterAsync(new RegisterRequest { HostName = "host-b", MigrationAddress = "10.0.0.2", AgentEndpoint = _target.Endpoint, Inventory = inventory }, cancellationToken: Ct);
        await DefineGuest("vnf-1", "host-a");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _source.DisposeAsync();
        await _target.DisposeAsync();
    }

    private async Task<JsonObject> MigrateAndSettle()
    {
        var id = (await Json(await PostMigration(new { guest = "vnf-1", targetHost = "host-b" })))["id"]!.GetValue<string>();
        await Factory.Scheduler.RunOnceAsync(Ct);
        // The dispatcher runs on the thread pool; wait until it has nothing left to do.
        for (var i = 0; i < 200 && Factory.Scheduler.InFlight.Count > 0; i++)
        {
            await Task.Delay(25, Ct);
        }

        return await GetMigration(id);
    }

    [Fact]
    public async Task The_flow_prepares_the_target_then_migrates_from_the_source_and_records_the_result()
    {
        var m = await MigrateAndSettle();

        Assert.Equal("completed", m["state"]!.GetValue<string>());
        Assert.Equal(["prepare vnf-1"], _target.Calls);
        Assert.Equal(["migrate vnf-1 -> 10.0.0.2:4444"], _source.Calls);
        Assert.Equal(
            ["queued", "scheduled", "preparingTarget", "targetReady", "running", "switchingOver", "cleaningUp", "completed"],
            m["timeline"]!.AsArray().Select(e => e!["state"]!.GetValue<string>()));
        Assert.Equal("10.0.0.2:4444", m["timeline"]![3]!["note"]!.GetValue<string>());
        Assert.Equal(400, m["result"]!["totalTimeMs"]!.GetValue<double>());
        Assert.Equal(9, m["result"]!["cleanupTimeMs"]!.GetValue<double>());
        Assert.Equal("host-b", (await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct)))["host"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_page_stream_token_offered_to_the_target_and_the_engine_port_it_returns_reach_the_source()
    {
        PrepareIncomingRequest? prepared = null;
        MigrateRequest? migrated = null;
        _target.Prepare = r =>
        {
            prepared = r;
            return new PrepareIncomingReply { Address = "10.0.0.2", Port = 4444, Transport = Transport.Auto, PageStreamPort = 5555, PageStreamToken = r.PageStreamToken };
        };
        _source.Migration = r =>
        {
            migrated = r;
            return FakeAgent.Completed(r.MigrationId);
        };

        var m = await MigrateAndSettle();

        Assert.Equal("completed", m["state"]!.GetValue<string>());
        Assert.Equal(32, prepared!.PageStreamToken.Length);
        Assert.Equal(prepared.PageStreamToken, migrated!.PageStreamToken);
        Assert.Equal(5555, migrated.PageStreamPort);
        Assert.DoesNotContain("token", m.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_target_that_cannot_prepare_fails_the_migration_and_is_told_to_clean_up()
    {
        _target.Prepare = _ => throw new RpcException(new Status(StatusCode.FailedPrecondition, "not enough hugepages"));

        var m = await MigrateAndSettle();

        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Contains("not enough hugepages", m["failureReason"]!.GetValue<string>());
        Assert.Contains("cleanup Target", _target.Calls);
        Assert.Empty(_source.Calls);
        Assert.Equal("host-a", (await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct)))["host"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_progress_stream_that_breaks_leaves_the_migration_running_for_the_agent_to_report()
    {
        _source.Migration = r => Broken(r.MigrationId);

        var m = await MigrateAndSettle();

        Assert.Equal("running", m["state"]!.GetValue<string>());
        Assert.Null(m["failureReason"]);
    }

    [Fact]
    public async Task A_failure_the_source_reports_before_switchover_keeps_the_guest_on_the_source()
    {
        _source.Migration = r =>
        [
            new MigrationProgress { MigrationId = r.MigrationId, Sequence = 1, Phase = MigrationPhase.Running },
            new MigrationProgress { MigrationId = r.MigrationId, Sequence = 2, Phase = MigrationPhase.Failed, FailureReason = "destination QEMU exited" },
        ];

        var m = await MigrateAndSettle();

        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Equal("destination QEMU exited", m["failureReason"]!.GetValue<string>());
        Assert.False(m["guestOnTarget"]!.GetValue<bool>());
    }

    private static IEnumerable<MigrationProgress> Broken(string id)
    {
        yield return new MigrationProgress { MigrationId = id, Sequence = 1, Phase = MigrationPhase.Running };
        throw new RpcException(new Status(StatusCode.Unavailable, "agent went away"));
    }
}
