using System.Net;
using System.Net.Http.Json;
using Ferry.Api.Tests.Support;
using Ferry.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Ferry.Api.Tests.Notifications;

public sealed class SubscriptionsApiTests(PostgresServer postgres) : NotificationTestBase(postgres)
{
    [Fact]
    public async Task Subscribing_tests_the_callback_then_creates_it_and_the_same_again_is_303()
    {
        var noRedirect = Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var body = new
        {
            callbackUri = Receiver.Url(),
            filter = new { vnfInstanceIds = new[] { "vnf-inst-1" }, operationStates = new[] { "COMPLETED", "STARTING" } },
            authentication = new { authType = new[] { "BASIC" }, paramsBasic = new { userName = "mano", password = "s3cret-pw" } },
        };
        var created = await Subscribe(body, noRedirect);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var test = Assert.Single(Receiver.Requests);
        Assert.Equal(("GET", "/callback", "1.0.0"), (test.Method, test.Path, test.Version));
        Assert.Equal("Basic " + Convert.ToBase64String("mano:s3cret-pw"u8.ToArray()), test.Authorization);

        var text = await created.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("s3cret-pw", text);
        Assert.DoesNotContain("authentication", text);
        var json = await Json(created);
        var id = json["id"]!.GetValue<string>();
        Assert.Equal($"/api/v1/subscriptions/{id}", created.Headers.Location!.OriginalString);
        Assert.Equal($"/api/v1/subscriptions/{id}", json["_links"]!["self"]!["href"]!.GetValue<string>());
        Assert.Equal("FULL", json["verbosity"]!.GetValue<string>());
        Assert.Equal(["COMPLETED", "STARTING"], json["filter"]!["operationStates"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(0, json["delivery"]!["pending"]!.GetValue<int>());

        // The same callback and filter, written in another order: the existing subscription, no second test.
        var again = await Subscribe(new
        {
            callbackUri = Receiver.Url(),
            filter = new { operationStates = new[] { "STARTING", "COMPLETED" }, vnfInstanceIds = new[] { "vnf-inst-1" } },
        }, noRedirect);
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
        Assert.Equal($"/api/v1/subscriptions/{id}", again.Headers.Location!.OriginalString);
        Assert.Single(Receiver.Requests);

        var list = await Json(await Client.GetAsync("/api/v1/subscriptions", Ct));
        Assert.Equal([id], list["items"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()));
        Assert.Equal(id, (await Subscription(id))["id"]!.GetValue<string>());

        // The secret is stored encrypted.
        var stored = await WithDb(db => Task.FromResult(db.Subscriptions.Single().ProtectedAuthentication));
        Assert.NotNull(stored);
        Assert.DoesNotContain("s3cret-pw", stored);

        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Patch })
        {
            var response = await Client.SendAsync(new HttpRequestMessage(method, "/api/v1/subscriptions") { Content = JsonContent.Create(body) }, Ct);
            await Problem(response, HttpStatusCode.MethodNotAllowed);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/api/v1/subscriptions/{id}", Ct)).StatusCode);
        await Problem(await Client.GetAsync($"/api/v1/subscriptions/{id}", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_callback_that_answers_the_test_with_404_is_refused_and_nothing_is_stored()
    {
        Receiver.Answer = _ => Task.FromResult(StatusCodes.Status404NotFound);
        var problem = await Problem(await Subscribe(new { callbackUri = Receiver.Url() }), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("404", problem["detail"]!.GetValue<string>());
        Assert.Empty((await Json(await Client.GetAsync("/api/v1/subscriptions", Ct)))["items"]!.AsArray());
    }

    [Fact]
    public async Task A_callback_nobody_listens_on_is_refused_saying_so()
    {
        var url = Receiver.Url();
        await Receiver.StopAsync();
        var problem = await Problem(await Subscribe(new { callbackUri = url }), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("ConnectionError", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"callbackUri":"file:///etc/passwd"}""", "callbackUri")]
    [InlineData("""{"callbackUri":"http://user:pw@127.0.0.1/x"}""", "callbackUri")]
    [InlineData("""{"callbackUri":"http://127.0.0.1/x","verbosity":"LOUD"}""", "verbosity")]
    [InlineData("""{"callbackUri":"http://127.0.0.1/x","filter":{"operationStates":["DONE"]}}""", "filter.operationStates")]
    [InlineData("""{"callbackUri":"http://127.0.0.1/x","filter":{"notificationTypes":["VnfLcmOperationOccurrenceNotification"]}}""", "filter.notificationTypes")]
    [InlineData("""{"callbackUri":"http://127.0.0.1/x","filter":{"guests":["a,b"]}}""", "filter.guests")]
    [InlineData("""{"callbackUri":"http://127.0.0.1/x","authentication":{"authType":["BASIC"]}}""", "authentication.paramsBasic")]
    [InlineData("""{"callbackUri":"http://127.0.0.1/x","authentication":{"authType":["TLS_CERT"]}}""", "authentication.authType")]
    [InlineData("""{"callbackUri":"http://127.0.0.1/x","authentication":{"authType":["OAUTH2_CLIENT_CREDENTIALS"],"paramsOauth2ClientCredentials":{"clientId":"a","clientPassword":"b","tokenEndpoint":"ftp://x"}}}""", "authentication.paramsOauth2ClientCredentials.tokenEndpoint")]
    public async Task Bad_subscriptions_are_refused_before_anything_is_sent(string body, string field)
    {
        var response = await Client.PostAsync("/api/v1/subscriptions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);
        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]![field]);
        Assert.Empty(Receiver.Requests);
    }
}
