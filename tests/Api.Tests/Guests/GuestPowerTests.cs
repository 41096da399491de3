using System.Net;
using Ferry.Api.Tests.Support;
using Ferry.Contracts;
using Ferry.Testing;
using Ferry.Testing.Api;
using Grpc.Core;
using Grpc.Net.Client;

namespace Ferry.Api.Tests.Guests;

/// <summary>Starting, stopping and deleting a guest through its host's agent, which answers over real gRPC as each test needs.</summary>
public sealed class GuestPowerTests(PostgresServer postgres) : ApiTest(postgres)
{
    private readonly LoopbackAgent _agent = new();

    public override async ValueTask InitializeAsync()
    {
        await _agent.StartAsync();
        await base.InitializeAsync();
        var plane = new ControlPlane.ControlPlaneClient(GrpcChannel.ForAddress(Factory.Server.BaseAddress,
            new GrpcChannelOptions { HttpHandler = Factory.Server.CreateHandler() }));
        await plane.RegisterAsync(new RegisterRequest
        {
            HostName = "host-a", MigrationAddress = "10.0.0.1", AgentEndpoint = _agent.Endpoint,
            Inventory = new HostInventory { CpuModel = "qemu64", MemoryFreeMib = 16384 },
        }, cancellationToken: Ct);
        await DefineGuest("vnf-1", "host-a");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _agent.DisposeAsync();
    }

    [Fact]
    public async Task Starting_a_guest_whose_QEMU_already_runs_is_409_and_the_guest_is_recorded_running()
    {
        _agent.Launch = r => throw new RpcException(new Status(StatusCode.AlreadyExists, $"guest '{r.Guest.Name}' already runs here (pid 4242)"));

        var problem = await Problem(await Client.PostAsync("/api/v1/guests/vnf-1/start", null, Ct), HttpStatusCode.Conflict);

        Assert.Contains("already runs on host 'host-a'", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("running", (await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct)))["state"]!.GetValue<string>());
        Assert.Equal(["launch vnf-1"], _agent.Calls);
    }

    [Fact]
    public async Task Deleting_a_guest_stops_its_QEMU_before_the_record_goes()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/api/v1/guests/vnf-1", Ct)).StatusCode);

        Assert.Equal(["stop vnf-1"], _agent.Calls);
        Assert.Equal(0, (await CountRows()).Guests);
    }

    [Fact]
    public async Task A_delete_the_agent_cannot_carry_out_is_502_and_keeps_the_guest()
    {
        _agent.Stop = _ => throw new RpcException(new Status(StatusCode.Internal, "QMP quit timed out"));

        var problem = await Problem(await Client.DeleteAsync("/api/v1/guests/vnf-1", Ct), HttpStatusCode.BadGateway);

        Assert.Contains("QMP quit timed out", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, (await CountRows()).Guests);
    }
}
