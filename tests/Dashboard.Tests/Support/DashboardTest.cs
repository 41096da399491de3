using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ferry.Contracts;
using Ferry.Testing;
using Ferry.Testing.Api;
using Grpc.Net.Client;
using Microsoft.Playwright;

namespace Ferry.Dashboard.Tests.Support;

/// <summary>
/// Each test gets a database, the real API on it, three hosts whose agents the test paces (registered
/// over gRPC as real agents do), guests <c>vnf-1</c> on host-a and <c>vnf-2</c> on host-c, and a fresh
/// browser context on <c>/dashboard</c> that records every console error, page error and failed request.
/// </summary>
public abstract class DashboardTest(PostgresServer postgres, Chromium chromium) : IAsyncLifetime
{
    /// <summary>How long a wait for the page may take before the test fails saying what it waited for (a hang guard, not a timing assert).</summary>
    protected const float Patience = 60_000;

    private readonly List<string> _problems = [];

    protected LiveApi Api { get; private set; } = null!;

    protected Dictionary<string, LoopbackAgent> Agents { get; } = new() { ["host-a"] = PacedAgent(), ["host-b"] = PacedAgent(), ["host-c"] = PacedAgent() };

    protected HttpClient Rest { get; private set; } = null!;

    protected IBrowserContext Context { get; private set; } = null!;

    protected IPage Page { get; private set; } = null!;

    /// <summary>Console errors, uncaught page errors and failed requests, as the browser reported them.</summary>
    protected IReadOnlyList<string> Problems
    {
        get
        {
            lock (_problems)
            {
                return [.. _problems];
            }
        }
    }

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public virtual async ValueTask InitializeAsync()
    {
        foreach (var agent in Agents.Values)
        {
            await agent.StartAsync();
        }

        Api = DashboardApi.Start(await postgres.CreateFerryDatabaseAsync());
        Rest = Api.Rest();
        using var channel = GrpcChannel.ForAddress(Api.GrpcUrl);
        var plane = new ControlPlane.ControlPlaneClient(channel);
        var address = 1;
        foreach (var (name, agent) in Agents)
        {
            var inventory = new HostInventory
            {
                CpuModel = "qemu64", Kvm = true, MemoryFreeMib = 16384, QemuVersion = "7.2.0", OvsVersion = "3.1.0",
                Hugepages = { new HugepagePool { PageSizeKib = 2048, Total = 1200, Free = 1200 - (100 * address) } },
                Accelerators =
                {
                    new Contracts.GuestAccelerator { GuestKind = "firmware", Accelerator = "kvm", Reason = "a BIOS guest ran under KVM" },
                    new Contracts.GuestAccelerator { GuestKind = "linux", Accelerator = "tcg", Reason = "kvm_pvm hangs a Linux kernel" },
                },
            };
            await plane.RegisterAsync(new RegisterRequest
            {
                HostName = name, MigrationAddress = $"10.0.0.{address++}", AgentEndpoint = agent.Endpoint, Inventory = inventory,
            }, cancellationToken: Ct);
        }

        await DefineGuest("vnf-1", "host-a");
        await DefineGuest("vnf-2", "host-c");

        Context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Api.Url, ViewportSize = new ViewportSize { Width = 1280, Height = 900 }, DeviceScaleFactor = 1,
        });
        Context.SetDefaultTimeout(Patience);
        Assertions.SetDefaultExpectTimeout(Patience);
        Page = await Context.NewPageAsync();
        Page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                Problem($"console {message.Type}: {message.Text}");
            }
        };
        Page.PageError += (_, error) => Problem($"page error: {error}");
        Page.RequestFailed += (_, request) =>
        {
            // A stream the page itself aborts (closing a detail view, leaving) is not a failure.
            if (request.Failure is not "net::ERR_ABORTED")
            {
                Problem($"request failed: {request.Method} {request.Url}: {request.Failure}");
            }
        };
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (Context is not null)
        {
            await Context.CloseAsync();
        }

        Rest?.Dispose();
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }

        foreach (var agent in Agents.Values)
        {
            await agent.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Opens the dashboard and signs in with <paramref name="key"/> (the admin key by default), as an operator does.</summary>
    protected async Task OpenDashboard(string? key = null)
    {
        await Page.GotoAsync("/dashboard");
        await Page.FillAsync("#key-input", key ?? Api.AdminKey);
        await Page.ClickAsync("#key-form button[type=submit]");
        await Assertions.Expect(Page.Locator("#stream-status")).ToHaveAttributeAsync("data-status", "live");
    }

    /// <summary>Saves a screenshot of the page to the test output (screenshots/NAME.png) and returns its path.</summary>
    protected async Task<string> Screenshot(string name, bool fullPage = true)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "screenshots", name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
        TestContext.Current.SendDiagnosticMessage($"screenshot: {path}");
        return path;
    }

    protected async Task DefineGuest(string name, string host)
    {
        var response = await Rest.PostAsJsonAsync("/api/v1/guests", new { name, memoryMiB = 1024, vcpus = 2, host }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    protected async Task<string> PostMigration(string guest, string targetHost)
    {
        var response = await Rest.PostAsJsonAsync("/api/v1/migrations", new { guest, targetHost, policy = new { transport = "qemu" } }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
    }

    protected async Task<JsonElement> Get(string path)
    {
        var response = await Rest.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
    }

    /// <summary>One pass of the scheduler, then waits until the source agent was asked to migrate.</summary>
    protected async Task<PacedMigration> StartedOn(string sourceHost, string migrationId)
    {
        await Api.Scheduler.RunOnceAsync(Ct);
        var run = Agents[sourceHost].Run(migrationId);
        await run.Started.Task.WaitAsync(TimeSpan.FromMilliseconds(Patience), Ct);
        return run;
    }

    /// <summary>Waits until the scheduler has no migration in flight (the agents reported their ends).</summary>
    protected async Task Settle()
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        guard.CancelAfter(TimeSpan.FromMilliseconds(Patience));
        while (Api.Scheduler.InFlight.Count > 0)
        {
            await Task.Delay(25, guard.Token);
        }
    }

    /// <summary>A whole migration of <paramref name="guest"/> from <paramref name="source"/> to <paramref name="target"/>, with the figures given.</summary>
    protected async Task<string> Migrate(string guest, string source, string target, double totalMs, double downtimeMs, double? networkDowntimeMs = null, int passes = 2)
    {
        var id = await PostMigration(guest, target);
        var run = await StartedOn(source, id);
        for (var pass = 1; pass <= passes; pass++)
        {
            run.Progress(pass, pass * (256L << 20), (passes - pass + 1) * (32L << 20), 1200.0 / pass, 9400);
        }

        run.SwitchOver();
        run.Complete(totalMs, downtimeMs, networkDowntimeMs, passes);
        await Settle();
        return id;
    }

    /// <summary>An agent whose migrations report what the test says, when it says it; a cancel ends the stream.</summary>
    private static LoopbackAgent PacedAgent()
    {
        var agent = new LoopbackAgent { Paced = true };
        agent.CancelAnswer = request =>
        {
            agent.Run(request.MigrationId).End();
            return new CancelReply { Cancelled = true };
        };
        return agent;
    }

    private void Problem(string text)
    {
        lock (_problems)
        {
            _problems.Add(text);
        }
    }
}
