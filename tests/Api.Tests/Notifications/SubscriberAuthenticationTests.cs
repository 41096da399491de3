using System.Text;
using Ferry.Api.Tests.Support;
using Ferry.Testing;
using Microsoft.AspNetCore.Http;

namespace Ferry.Api.Tests.Notifications;

/// <summary>BASIC and OAuth2 client credentials towards the subscriber, with a token endpoint in the test.</summary>
public sealed class SubscriberAuthenticationTests(PostgresServer postgres) : NotificationTestBase(postgres)
{
    [Fact]
    public async Task Basic_credentials_reach_the_callback_test_and_every_notification()
    {
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("mano:pa ss:wörd"));
        Receiver.Answer = r => Task.FromResult(r.Headers.Authorization == expected ? StatusCodes.Status204NoContent : StatusCodes.Status401Unauthorized);
        await Subscribed(new
        {
            callbackUri = Receiver.Url(),
            authentication = new { authType = new[] { "BASIC" }, paramsBasic = new { userName = "mano", password = "pa ss:wörd" } },
        });
        await Migrate();
        await Settle(Factory);
        await Receiver.WaitFor(r => r.Delivered().Count >= 3, "three notifications");
        Assert.All(Receiver.Requests, r => Assert.Equal(expected, r.Authorization));
    }

    [Fact]
    public async Task An_oauth2_token_is_fetched_cached_and_fetched_again_when_the_callback_answers_401()
    {
        var issued = 0;
        var valid = "";
        var clientAuth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ferry:client-secret"));
        Receiver.Answer = async r =>
        {
            if (r.Path == "/token")
            {
                var form = await r.ReadFormAsync(Ct);
                if (r.Headers.Authorization != clientAuth || form["grant_type"] != "client_credentials")
                {
                    return StatusCodes.Status401Unauthorized;
                }

                valid = $"token-{Interlocked.Increment(ref issued)}";
                r.HttpContext.Items["body"] = $$"""{"access_token":"{{valid}}","token_type":"Bearer","expires_in":3600}""";
                return StatusCodes.Status200OK;
            }

            return r.Headers.Authorization == $"Bearer {valid}" ? StatusCodes.Status204NoContent : StatusCodes.Status401Unauthorized;
        };
        await Subscribed(new
        {
            callbackUri = Receiver.Url(),
            authentication = new
            {
                authType = new[] { "OAUTH2_CLIENT_CREDENTIALS" },
                paramsOauth2ClientCredentials = new { clientId = "ferry", clientPassword = "client-secret", tokenEndpoint = Receiver.Url("/token") },
            },
        });
        Assert.Equal(1, issued); // the callback test's

        await Migrate();
        await Settle(Factory);
        await Receiver.WaitFor(r => r.Delivered().Count >= 3, "three notifications");
        // Delivery fetched its own token once and reused it for all three.
        Assert.Equal(2, issued);
        Assert.All(Receiver.Requests.Where(r => r.Method == "POST" && r.Path == "/callback"), r => Assert.Equal("Bearer token-2", r.Authorization));

        // The subscriber revokes the token: the next notification gets a 401, a new token, and goes through.
        valid = "revoked";
        var back = await Client.PostAsync("/api/v1/migrations", System.Net.Http.Json.JsonContent.Create(new { guest = "vnf-1", targetHost = "host-a" }), Ct);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, back.StatusCode);
        await Settle(Factory);
        await Receiver.WaitFor(r => r.Delivered().Count >= 6, "three more notifications", () => { Factory.Clock.Advance(TimeSpan.FromSeconds(1)); return Task.CompletedTask; });
        Assert.Equal(3, issued);
        Assert.Contains(Receiver.Requests, r => r.Answer == 401 && r.Authorization == "Bearer token-2");
    }
}
