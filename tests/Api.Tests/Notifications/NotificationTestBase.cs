using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ferry.Api.Tests.Support;
using Ferry.Contracts;
using Ferry.Testing;
using Ferry.Testing.Api;
using Grpc.Net.Client;

namespace Ferry.Api.Tests.Notifications;

/// <summary>Two hosts with fake agents over real gRPC, a guest with VNF ids, and a real HTTP receiver.</summary>
public abstract class NotificationTestBase(PostgresServer postgres) : ApiTest(postgres)
{
    private readonly Dictionary<string, string> _settings = new()
    {
        // Retries within a few seconds of the test's clock.
        ["Ferry:Notifications:MinBackoff"] = "00:00:01",
        ["Ferry:Notifications:MaxBackoff"] = "00:00:02",
        ["Ferry:Notifications:PollInterval"] = "00:00:01",
        // The tests move the API's clock a second every 20 ms while they wait: at the default 5 s an attempt had
        // 100 ms of real time before it timed out, which a token fetch and a POST can exceed on a loaded machine (the
        // OAuth2 test counts the tokens fetched, and a timed-out fetch is fetched again). A minute of it is 1.2 s.
        ["Ferry:Notifications:AttemptTimeout"] = "00:01:00",
        // A hundred subscriptions are made within a second.
        ["Ferry:Security:RequestsPerSecond"] = "10000",
    };

    protected LoopbackAgent Source { get; } = new();

    protected LoopbackAgent Target { get; } = new();

    protected NotificationReceiver Receiver { get; } = new();

    protected override bool RealDispatcher => true;

    protected override IReadOnlyDictionary<string, string> Settings => _settings;

    /// <summary>Settings of the next API instance started (<see cref="ApiTest.NewInstance"/>).</summary>
    protected Dictionary<string, string> MutableSettings => _settings;

    public override async ValueTask InitializeAsync()
    {
        await Source.StartAsync();
        await Target.StartAsync();
        await Receiver.StartAsync();
        await base.InitializeAsync();
        var plane = new ControlPlane.ControlPlaneClient(GrpcChannel.ForAddress(Factory.Server.BaseAddress,
            new GrpcChannelOptions { HttpHandler = Factory.Server.CreateHandler() }));
        var inventory = new HostInventory { CpuModel = "qemu64", MemoryFreeMib = 16384 };
        await plane.RegisterAsync(new RegisterRequest { HostName = "host-a", MigrationAddress = "10.0.0.1", AgentEndpoint = Source.Endpoint, Inventory = inventory }, cancellationToken: Ct);
        await plane.RegisterAsync(new RegisterRequest { HostName = "host-b", MigrationAddress = "10.0.0.2", AgentEndpoint = Target.Endpoint, Inventory = inventory }, cancellationToken: Ct);
        var guest = await Client.PostAsJsonAsync("/api/v1/guests",
            new { name = "vnf-1", memoryMiB = 512, vcpus = 1, host = "host-a", vnfInstanceId = "vnf-inst-1", vnfcInstanceId = "vnfc-1" }, Ct);
        Assert.Equal(HttpStatusCode.Created, guest.StatusCode);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Source.DisposeAsync();
        await Target.DisposeAsync();
        await Receiver.DisposeAsync();
    }

    protected Task<HttpResponseMessage> Subscribe(object body, HttpClient? client = null) =>
        (client ?? Client).PostAsJsonAsync("/api/v1/subscriptions", body, Ct);

    protected async Task<string> Subscribed(object body, HttpClient? client = null)
    {
        var response = await Subscribe(body, client);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await Json(response))["id"]!.GetValue<string>();
    }

    protected async Task<string> Migrate(FerryApiFactory? on = null)
    {
        var response = await (on?.CreateClient() ?? Client).PostAsJsonAsync("/api/v1/migrations", new { guest = "vnf-1", targetHost = "host-b" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await Json(response))["id"]!.GetValue<string>();
    }

    /// <summary>One scheduler pass, then waits until the dispatcher has finished the migration.</summary>
    protected static async Task Settle(FerryApiFactory replica)
    {
        await replica.Scheduler.RunOnceAsync(Ct);
        for (var i = 0; i < 1200 && replica.Scheduler.InFlight.Count > 0; i++)
        {
            await Task.Delay(25, Ct);
        }

        Assert.Empty(replica.Scheduler.InFlight);
    }

    protected async Task<JsonObject> Subscription(string id) => await Json(await Client.GetAsync($"/api/v1/subscriptions/{id}", Ct));

    protected static IEnumerable<(string? Status, string? State)> Statuses(IEnumerable<JsonObject> notifications) =>
        notifications.Select(n => (n["notificationStatus"]?.GetValue<string>(), n["operationState"]?.GetValue<string>()));

    protected static readonly (string?, string?)[] CompletedFlow = [("START", "STARTING"), ("START", "PROCESSING"), ("RESULT", "COMPLETED")];
}
