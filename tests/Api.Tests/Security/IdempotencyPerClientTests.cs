using System.Net;
using System.Net.Http.Json;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Security;

public sealed class IdempotencyPerClientTests(PostgresServer postgres) : ApiTest(postgres)
{
    private const string AdminKey = "admin-key-0123456789";
    private const string ManoKey = "mano-key-0123456789";
    private const string ScriptKey = "script-key-0123456789";

    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Ferry:Security:ApiKeys:0:Name"] = "operator",
        ["Ferry:Security:ApiKeys:0:Key"] = AdminKey,
        ["Ferry:Security:ApiKeys:0:Scopes:0"] = "admin",
        ["Ferry:Security:ApiKeys:1:Name"] = "mano",
        ["Ferry:Security:ApiKeys:1:Key"] = ManoKey,
        ["Ferry:Security:ApiKeys:1:Scopes:0"] = "migrate",
        ["Ferry:Security:ApiKeys:2:Name"] = "script",
        ["Ferry:Security:ApiKeys:2:Key"] = ScriptKey,
        ["Ferry:Security:ApiKeys:2:Scopes:0"] = "migrate",
    };

    private Task<HttpResponseMessage> Send(string key, string path, object body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Api-Key", key);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return Client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task Two_clients_using_the_same_key_get_their_own_migrations()
    {
        foreach (var host in new[] { "host-a", "host-b" })
        {
            Assert.Equal(HttpStatusCode.Created, (await Send(AdminKey, "/api/v1/hosts", new { name = host, migrationAddress = "10.0.0.1" })).StatusCode);
        }

        foreach (var guest in new[] { "vnf-1", "vnf-2" })
        {
            Assert.Equal(HttpStatusCode.Created, (await Send(AdminKey, "/api/v1/guests", new { name = guest, memoryMiB = 512, vcpus = 1, host = "host-a" })).StatusCode);
        }

        var mano = await Send(ManoKey, "/api/v1/migrations", new { guest = "vnf-1" }, "retry-1");
        var script = await Send(ScriptKey, "/api/v1/migrations", new { guest = "vnf-2" }, "retry-1");
        var manoAgain = await Send(ManoKey, "/api/v1/migrations", new { guest = "vnf-1" }, "retry-1");

        Assert.Equal(HttpStatusCode.Accepted, mano.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, script.StatusCode);
        Assert.NotEqual(mano.Headers.Location, script.Headers.Location);
        Assert.Equal(mano.Headers.Location, manoAgain.Headers.Location);
        var rows = await CountRows();
        Assert.Equal(2, rows.Migrations);
        Assert.Equal(2, rows.Keys);
    }
}
