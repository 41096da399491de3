using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ferry.Contracts;
using Ferry.Testing;
using Ferry.Testing.Api;
using Grpc.Net.Client;
using Microsoft.Extensions.Time.Testing;

namespace Ferry.Cli.Tests.Support;

/// <summary>
/// Each test gets a database, the real API on it, two hosts whose agents the test scripts (host-a and
/// host-b, registered over gRPC as real agents do) and a guest <c>vnf-1</c> on host-a; it runs <c>ferry</c>
/// against that API as a separate process and reads its output and exit code.
/// </summary>
public abstract partial class CliTest(PostgresServer postgres) : IAsyncLifetime
{
    private readonly List<FerryProcess> _processes = [];

    protected LiveApi Api { get; private set; } = null!;

    /// <summary>The API's clock: the test moves it.</summary>
    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    protected LoopbackAgent HostA { get; } = ScriptedAgent();

    protected LoopbackAgent HostB { get; } = ScriptedAgent();

    protected HttpClient Rest { get; private set; } = null!;

    /// <summary>Where ferry runs: a directory with no <c>.ferry/api-key</c> above it, so only what a test gives it counts.</summary>
    protected string WorkingDirectory { get; } = Directory.CreateTempSubdirectory("ferry-cli-test-").FullName;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public virtual async ValueTask InitializeAsync()
    {
        await HostA.StartAsync();
        await HostB.StartAsync();
        Api = new LiveApi(await postgres.CreateFerryDatabaseAsync(), "cli-test") { Clock = Clock }.Start();
        Rest = Api.Rest();
        using var channel = GrpcChannel.ForAddress(Api.GrpcUrl);
        var plane = new ControlPlane.ControlPlaneClient(channel);
        var inventory = new HostInventory { CpuModel = "qemu64", Kvm = true, MemoryFreeMib = 16384, QemuVersion = "7.2.0" };
        await plane.RegisterAsync(new RegisterRequest { HostName = "host-a", MigrationAddress = "10.0.0.1", AgentEndpoint = HostA.Endpoint, Inventory = inventory }, cancellationToken: Ct);
        await plane.RegisterAsync(new RegisterRequest { HostName = "host-b", MigrationAddress = "10.0.0.2", AgentEndpoint = HostB.Endpoint, Inventory = inventory }, cancellationToken: Ct);
        await DefineGuest("vnf-1", "host-a");
    }

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            await p.DisposeAsync();
        }

        Rest.Dispose();
        await Api.DisposeAsync();
        await HostA.DisposeAsync();
        await HostB.DisposeAsync();
        Directory.Delete(WorkingDirectory, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>The environment an operator of this API would have: where it is and the key.</summary>
    protected Dictionary<string, string> Environment() => new() { ["FERRY_API"] = Api.Url, ["FERRY_API_KEY"] = Api.AdminKey };

    /// <summary>Runs <c>ferry ARGS</c> to its end.</summary>
    protected Task<ProgramRun> Ferry(params string[] args) => StartFerry(args).ExitAsync(Ct);

    protected FerryProcess StartFerry(params string[] args) => StartFerryWith(Environment(), args);

    protected FerryProcess StartFerryWith(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Track(FerryProcess.Start("dotnet", [FerryProcess.Dll, .. args], environment, WorkingDirectory));

    /// <summary><c>ferry ARGS</c> in a pseudo-terminal (stdout a tty, TERM set): the live display's way.</summary>
    protected FerryProcess StartFerryInTerminal(params string[] args)
    {
        var environment = Environment();
        environment["TERM"] = "xterm-256color";
        return Track(FerryProcess.Start(PseudoTerminal.Script, PseudoTerminal.Wrap("dotnet", [FerryProcess.Dll, .. args], columns: 160), environment, WorkingDirectory));
    }

    protected FerryProcess Track(FerryProcess process)
    {
        _processes.Add(process);
        return process;
    }

    /// <summary>The id ferry names when it starts following a migration (<c>following migration ID (feed)</c>).</summary>
    protected static async Task<string> FollowedMigration(FerryProcess ferry)
    {
        await ferry.WaitForOutputAsync("following migration ", Ct);
        await ferry.WaitForOutputAsync(")", Ct);
        return FollowingLine().Match(PseudoTerminal.Visible(ferry.Output)).Groups[1].Value;
    }

    /// <summary>One pass of the scheduler: claims queued migrations and hands them to the agents.</summary>
    protected Task Schedule() => Api.Scheduler.RunOnceAsync(Ct);

    /// <summary>Waits until the scheduler has no migration in flight (the agents reported their ends).</summary>
    protected async Task Settle()
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        guard.CancelAfter(FerryProcess.Patience);
        while (Api.Scheduler.InFlight.Count > 0)
        {
            await Task.Delay(25, guard.Token);
        }
    }

    /// <summary>Schedules the migration and waits until the source agent was asked to run it.</summary>
    protected async Task<PacedMigration> StartedOn(LoopbackAgent source, string migrationId)
    {
        await Schedule();
        var run = source.Run(migrationId);
        await run.Started.Task.WaitAsync(FerryProcess.Patience, Ct);
        return run;
    }

    protected async Task DefineGuest(string name, string host)
    {
        var response = await Rest.PostAsJsonAsync("/api/v1/guests", new { name, memoryMiB = 1024, vcpus = 2, host }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    protected async Task<JsonElement> Get(string path)
    {
        var response = await Rest.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
    }

    protected async Task<string> PostMigration(object body)
    {
        var response = await Rest.PostAsJsonAsync("/api/v1/migrations", body, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Asserts <paramref name="actual"/> is <paramref name="expected"/>, field for field (the CLI's JSON is the API's).</summary>
    protected static void SameJson(JsonElement expected, JsonElement actual) =>
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(actual));

    /// <summary>Migrations on this agent report running then complete at once (400 ms total, 5 ms downtime), without the test's say.</summary>
    protected static void CompleteAtOnce(LoopbackAgent agent) => agent.OnPacedStart = run =>
    {
        run.Progress(1, 1 << 20, 0, 0, 100);
        run.Complete(400, 5);
    };

    /// <summary>An agent whose migrations report what the test says, when it says it; a cancel ends one as cancelled.</summary>
    private static LoopbackAgent ScriptedAgent()
    {
        var agent = new LoopbackAgent { Paced = true };
        agent.CancelAnswer = request =>
        {
            agent.Run(request.MigrationId).Fail("cancelled by the operator", MigrationPhase.Cancelled);
            return new CancelReply { Cancelled = true };
        };
        return agent;
    }

    [GeneratedRegex("following migration ([0-9a-f-]{36})")]
    private static partial Regex FollowingLine();
}
