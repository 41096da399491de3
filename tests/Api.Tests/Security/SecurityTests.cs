using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Security;

public sealed class SecurityTests(PostgresServer postgres) : ApiTest(postgres)
{
    private const string ReadKey = "read-key-0123456789";
    private const string MigrateKey = "migrate-key-0123456789";
    private const string AdminKey = "admin-key-0123456789";

    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Ferry:Security:ApiKeys:0:Name"] = "dashboard",
        ["Ferry:Security:ApiKeys:0:Key"] = ReadKey,
        ["Ferry:Security:ApiKeys:0:Scopes:0"] = "read",
        ["Ferry:Security:ApiKeys:1:Name"] = "mano",
        // Configured by hash: the secret itself need not be in configuration.
        ["Ferry:Security:ApiKeys:1:Key"] = "sha256:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(MigrateKey))),
        ["Ferry:Security:ApiKeys:1:Scopes:0"] = "migrate",
        ["Ferry:Security:ApiKeys:2:Name"] = "operator",
        ["Ferry:Security:ApiKeys:2:Key"] = AdminKey,
        ["Ferry:Security:ApiKeys:2:Scopes:0"] = "admin",
        ["Ferry:Security:RequestsPerSecond"] = "1000",
    };

    private HttpRequestMessage Request(HttpMethod method, string path, string? key, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    private async Task Seed()
    {
        var host = (string name) => Client.SendAsync(Request(HttpMethod.Post, "/api/v1/hosts", AdminKey, new { name, migrationAddress = "10.0.0.1" }), Ct);
        Assert.Equal(HttpStatusCode.Created, (await host("host-a")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await host("host-b")).StatusCode);
        var guest = await Client.SendAsync(Request(HttpMethod.Post, "/api/v1/guests", AdminKey, new { name = "vnf-1", memoryMiB = 512, vcpus = 1, host = "host-a" }), Ct);
        Assert.Equal(HttpStatusCode.Created, guest.StatusCode);
    }

    [Fact]
    public async Task Without_a_key_every_api_call_is_401_and_writes_nothing()
    {
        await Problem(await Client.GetAsync("/api/v1/migrations", Ct), HttpStatusCode.Unauthorized);
        var post = await Client.SendAsync(Request(HttpMethod.Post, "/api/v1/hosts", null, new { name = "host-x", migrationAddress = "10.0.0.1" }), Ct);
        await Problem(post, HttpStatusCode.Unauthorized);
        Assert.Equal(0, (await CountRows()).Hosts);
    }

    [Fact]
    public async Task An_unknown_key_is_401()
    {
        await Problem(await Client.SendAsync(Request(HttpMethod.Get, "/api/v1/hosts", "not-a-key-at-all-000"), Ct), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_read_key_reads_but_cannot_migrate()
    {
        await Seed();
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(Request(HttpMethod.Get, "/api/v1/migrations", ReadKey), Ct)).StatusCode);
        await Problem(await Client.SendAsync(Request(HttpMethod.Post, "/api/v1/migrations", ReadKey, new { guest = "vnf-1" }), Ct), HttpStatusCode.Forbidden);
        Assert.Equal(0, (await CountRows()).Migrations);
    }

    [Fact]
    public async Task A_migrate_key_migrates_but_cannot_administer_hosts()
    {
        await Seed();
        var migration = await Client.SendAsync(Request(HttpMethod.Post, "/api/v1/migrations", MigrateKey, new { guest = "vnf-1" }), Ct);
        Assert.Equal(HttpStatusCode.Accepted, migration.StatusCode);
        await Problem(await Client.SendAsync(Request(HttpMethod.Post, "/api/v1/hosts/host-b/drain", MigrateKey), Ct), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task The_authorization_scheme_header_works_too()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/hosts");
        request.Headers.TryAddWithoutValidation("Authorization", $"ApiKey {ReadKey}");
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(request, Ct)).StatusCode);
    }

    [Fact]
    public async Task Health_and_metrics_stay_reachable_without_a_key()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/healthz", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/readyz", Ct)).StatusCode);
    }
}
