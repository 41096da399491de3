using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Ferry.Api.Migrations;
using Ferry.Api.Scheduling;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Ferry.Cli.Tests.Support;

/// <summary>
/// The real API on a fresh database, served by Kestrel on loopback (the CLI is another process and
/// needs a real socket), with one admin API key. The scheduler's loop is off and the clock is fake:
/// the test runs the scheduler's passes itself, so every phase the CLI sees is the test's decision.
/// </summary>
/// <remarks>
/// The entry point is named by a public type of the API's assembly, not <c>Program</c>: the CLI's
/// own Program is visible here too.
/// </remarks>
public sealed class LiveApi(string connectionString) : WebApplicationFactory<MigrationView>
{
    public string Key { get; } = "ferry-test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public string Url { get; } = $"http://127.0.0.1:{FreePort()}";

    /// <summary>The agents' gRPC endpoint (plain HTTP/2: cluster TLS is another suite's subject).</summary>
    public string GrpcUrl { get; } = $"http://127.0.0.1:{FreePort()}";

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    public MigrationScheduler Scheduler => Services.GetRequiredService<MigrationScheduler>();

    /// <summary>An admin client of the REST API, for the test's own setup and checks.</summary>
    public HttpClient Rest()
    {
        var client = new HttpClient { BaseAddress = new Uri(Url) };
        client.DefaultRequestHeaders.Add("X-Api-Key", Key);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Ferry", connectionString);
        builder.UseSetting("Kestrel:Endpoints:Http:Url", Url);
        builder.UseSetting("Kestrel:Endpoints:Grpc:Url", GrpcUrl);
        builder.UseSetting("Ferry:Scheduler:Enabled", "false");
        builder.UseSetting("Ferry:Scheduler:InstanceId", $"cli-test-{Guid.NewGuid():N}");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Ferry:Security:ApiKeys:0:Name", "admin");
        builder.UseSetting("Ferry:Security:ApiKeys:0:Key", "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key))));
        builder.UseSetting("Ferry:Security:ApiKeys:0:Scopes:0", "admin");
        builder.UseSetting("Ferry:Tls:AllowInsecure", "true");
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
    }

    /// <summary>Starts Kestrel (and applies the schema).</summary>
    public LiveApi Start()
    {
        UseKestrel();
        StartServer();
        return this;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
