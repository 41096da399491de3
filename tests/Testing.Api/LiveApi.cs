using System.Security.Cryptography;
using System.Text;
using Ferry.Api.Migrations;
using Ferry.Api.Scheduling;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Ferry.Testing.Api;

/// <summary>
/// The real API on a fresh database, served by Kestrel on loopback (the CLI and the browser are other
/// processes and need a real socket), with an admin API key and a read-only one. The scheduler's loop is
/// off: the test runs the scheduler's passes itself, so every phase a client sees is the test's decision.
/// </summary>
/// <remarks>
/// The entry point is named by a public type of the API's assembly, not <c>Program</c>: the CLI's
/// own Program is visible in Cli.Tests too.
/// </remarks>
/// <param name="connectionString">The API's database.</param>
/// <param name="instance">Names the scheduler's instance (with a fresh suffix), so a log line says which suite ran it.</param>
public sealed class LiveApi(string connectionString, string instance) : WebApplicationFactory<MigrationView>
{
    public string AdminKey { get; } = NewKey();

    public string ReadKey { get; } = NewKey();

    public string Url { get; } = $"http://127.0.0.1:{FreePorts.Next()}";

    /// <summary>The agents' gRPC endpoint (plain HTTP/2: cluster TLS is another suite's subject).</summary>
    public string GrpcUrl { get; } = $"http://127.0.0.1:{FreePorts.Next()}";

    /// <summary>The API's clock, where a test moves time itself; the machine's when null.</summary>
    public TimeProvider? Clock { get; init; }

    /// <summary>Settings of this use over the defaults above, e.g. <c>Ferry:Events:ProgressInterval</c>.</summary>
    public Dictionary<string, string> Settings { get; } = new();

    public MigrationScheduler Scheduler => Services.GetRequiredService<MigrationScheduler>();

    /// <summary>An admin client of the REST API, for the test's own setup and checks.</summary>
    public HttpClient Rest()
    {
        var client = new HttpClient { BaseAddress = new Uri(Url) };
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

    /// <summary>Starts Kestrel (and applies the schema).</summary>
    public LiveApi Start()
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
        builder.UseSetting("Ferry:Scheduler:InstanceId", $"{instance}-{Guid.NewGuid():N}");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        Key(builder, 0, "admin", AdminKey, "admin");
        Key(builder, 1, "viewer", ReadKey, "read");
        builder.UseSetting("Ferry:Tls:AllowInsecure", "true");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        if (Clock is { } clock)
        {
            builder.ConfigureTestServices(services => services.AddSingleton(clock));
        }
    }

    private static void Key(IWebHostBuilder builder, int index, string name, string key, string scope)
    {
        builder.UseSetting($"Ferry:Security:ApiKeys:{index}:Name", name);
        builder.UseSetting($"Ferry:Security:ApiKeys:{index}:Key", "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));
        builder.UseSetting($"Ferry:Security:ApiKeys:{index}:Scopes:0", scope);
    }

    private static string NewKey() => "ferry-test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
