using System.Net;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Security;

public sealed class RateLimitTests(PostgresServer postgres) : ApiTest(postgres)
{
    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Ferry:Security:RequestsPerSecond"] = "1",
    };

    [Fact]
    public async Task A_client_over_its_rate_gets_429_problems()
    {
        // 20 requests at one per second could only all pass if they took 20 s.
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 20; i++)
        {
            responses.Add(await Client.GetAsync("/api/v1/hosts", Ct));
        }

        var rejected = responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        await Problem(rejected, HttpStatusCode.TooManyRequests);
    }
}
