using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Ferry.Api.Migrations;
using Ferry.Api.Scheduling;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Ferry.Dashboard.Tests.Support;

/// <summary>
/// The real API on a fresh database, served by Kestrel on loopback (the browser needs a real socket),
/// with an admin key and a read-only key. The scheduler's loop is off: a test runs its passes, so the
/// page sees each phase when the test decides. The clock is the real one, because the page draws
/// times (charts over time, the Gantt of a migration's phases).
/// </summary>
public sealed class ServedApi(string connectionString) : WebApplicationFactory<MigrationView>
{
    public string AdminKey { get; } = NewKey();

    public string ReadKey { get; } = NewKey();

    public string Url { get; } = $"http://127.0.0.1:{FreePort()}";

    /// <summary>The agents' gRPC endpoint (plain HTTP/2).</summary>
    public string GrpcUrl { get; } = $"http://127.0.0.1:{FreePort()}";

    public MigrationScheduler Scheduler => Services.GetRequiredService<MigrationScheduler>();

    /// <summary>An admin client of the REST API, for the test's own setup and checks.</summary>
    public HttpClient Rest()
    {
        var client = new HttpClient { BaseAddress = new Uri(Url) };
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

    /// <summary>Starts Kestrel (and applies the schema).</summary>
    public ServedApi Start()
    {
        UseKestrel();
        StartServer();
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Ferry", connectionString);
        builder.UseSetting("Kestrel:Endpoints:Http:Url", Url);
        builder.UseSetting("Kestrel:Endpoints:Grpc:Url", GrpcUrl);
        builder.UseSetting("Ferry:Scheduler:Enabled", "false");
        builder.UseSetting("Ferry:Scheduler:InstanceId", $"dashboard-test-{Guid.NewGuid():N}");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        Key(builder, 0, "admin", AdminKey, "admin");
        Key(builder, 1, "viewer", ReadKey, "read");
        builder.UseSetting("Ferry:Tls:AllowInsecure", "true");
        // The paced agents do not heartbeat: hosts stay up for as long as a test takes.
        builder.UseSetting("Ferry:Agents:HeartbeatInterval", "00:10:00");
        // Every progress report becomes an event: a test paces the passes itself and waits for each on the page.
        builder.UseSetting("Ferry:Events:ProgressInterval", "00:00:00");
    }

    private static void Key(IWebHostBuilder builder, int index, string name, string key, string scope)
    {
        builder.UseSetting($"Ferry:Security:ApiKeys:{index}:Name", name);
        builder.UseSetting($"Ferry:Security:ApiKeys:{index}:Key", "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));
        builder.UseSetting($"Ferry:Security:ApiKeys:{index}:Scopes:0", scope);
    }

    private static string NewKey() => "ferry-test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
