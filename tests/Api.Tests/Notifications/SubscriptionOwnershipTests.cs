using System.Net;
using System.Net.Http.Json;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Notifications;

/// <summary>A subscription belongs to the API client that made it.</summary>
public sealed class SubscriptionOwnershipTests(PostgresServer postgres) : ApiTest(postgres)
{
    private const string ManoKey = "mano-key-0123456789abcdef";
    private const string OtherKey = "other-key-0123456789abcdef";

    private readonly NotificationReceiver _receiver = new();

    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Ferry:Security:AllowAnonymous"] = "false",
        ["Ferry:Security:ApiKeys:0:Name"] = "mano",
        ["Ferry:Security:ApiKeys:0:Key"] = ManoKey,
        ["Ferry:Security:ApiKeys:0:Scopes:0"] = "read",
        ["Ferry:Security:ApiKeys:1:Name"] = "other",
        ["Ferry:Security:ApiKeys:1:Key"] = OtherKey,
        ["Ferry:Security:ApiKeys:1:Scopes:0"] = "admin",
    };

    public override async ValueTask InitializeAsync()
    {
        await _receiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private HttpClient As(string key)
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    [Fact]
    public async Task Another_client_cannot_see_list_redeliver_or_delete_it()
    {
        var mano = As(ManoKey);
        var other = As(OtherKey);
        var created = await mano.PostAsJsonAsync("/api/v1/subscriptions", new { callbackUri = _receiver.Url() }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await Json(created))["id"]!.GetValue<string>();

        await Problem(await other.GetAsync($"/api/v1/subscriptions/{id}", Ct), HttpStatusCode.NotFound);
        await Problem(await other.DeleteAsync($"/api/v1/subscriptions/{id}", Ct), HttpStatusCode.NotFound);
        await Problem(await other.PostAsync($"/api/v1/subscriptions/{id}/redeliver", null, Ct), HttpStatusCode.NotFound);
        Assert.Empty((await Json(await other.GetAsync("/api/v1/subscriptions", Ct)))["items"]!.AsArray());

        // The same callback from the other client is its own subscription, not a 303 to mano's.
        Assert.Equal(HttpStatusCode.Created, (await other.PostAsJsonAsync("/api/v1/subscriptions", new { callbackUri = _receiver.Url() }, Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await mano.GetAsync($"/api/v1/subscriptions/{id}", Ct)).StatusCode);
        Assert.Single((await Json(await mano.GetAsync("/api/v1/subscriptions", Ct)))["items"]!.AsArray());
        Assert.Equal(HttpStatusCode.NoContent, (await mano.DeleteAsync($"/api/v1/subscriptions/{id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Subscribing_needs_a_client()
    {
        await Problem(await Client.PostAsJsonAsync("/api/v1/subscriptions", new { callbackUri = _receiver.Url() }, Ct), HttpStatusCode.Unauthorized);
        Assert.Empty(_receiver.Requests);
    }
}
