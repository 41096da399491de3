using System.Globalization;
using System.Net;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Security;

public sealed class RateLimitBeforeAuthenticationTests(PostgresServer postgres) : ApiTest(postgres)
{
    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Ferry:Security:ApiKeys:0:Name"] = "operator",
        ["Ferry:Security:ApiKeys:0:Key"] = "admin-key-0123456789",
        ["Ferry:Security:ApiKeys:0:Scopes:0"] = "admin",
        ["Ferry:Security:RequestsPerSecond"] = "1000",
        ["Ferry:Security:AddressRequestsPerSecond"] = "5",
    };

    [Fact]
    public async Task A_flood_of_bad_keys_gets_429_not_401()
    {
        // 30 requests at 5 per second could only all be answered 401 if they took 6 s.
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 30; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/hosts");
            request.Headers.Add("X-Api-Key", string.Create(CultureInfo.InvariantCulture, $"guessed-key-{i:D8}"));
            statuses.Add(await Client.SendAsync(request, Ct));
        }

        Assert.All(statuses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));
        await Problem(statuses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests), HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task Health_probes_are_not_counted()
    {
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/healthz", Ct)).StatusCode);
        }
    }
}
