using System.Net;
using System.Text.Json.Nodes;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests;

public sealed class HealthAndDocsTests(PostgresServer postgres) : ApiTest(postgres)
{
    [Fact]
    public async Task Liveness_and_readiness_answer_healthy_with_the_database_up()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/healthz", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/readyz", Ct)).StatusCode);
    }

    [Fact]
    public async Task Swagger_lists_every_endpoint()
    {
        var doc = JsonNode.Parse(await Client.GetStringAsync("/swagger/v1/swagger.json", Ct))!;
        var paths = doc["paths"]!.AsObject().Select(p => p.Key).ToHashSet();

        foreach (var path in new[]
        {
            "/api/v1/hosts", "/api/v1/hosts/{host}", "/api/v1/hosts/{host}/drain", "/api/v1/hosts/{host}/undrain",
            "/api/v1/guests", "/api/v1/guests/{guest}", "/api/v1/migrations", "/api/v1/migrations/{id}",
            "/api/v1/migrations/{id}/cancel", "/api/v1/reports/sla",
        })
        {
            Assert.Contains(path, paths);
        }

        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/swagger/index.html", Ct)).StatusCode);
    }

    [Fact]
    public async Task Swagger_shows_the_statuses_and_query_parameters_of_each_endpoint()
    {
        var doc = JsonNode.Parse(await Client.GetStringAsync("/swagger/v1/swagger.json", Ct))!;
        string[] Statuses(string path, string method) =>
            [.. doc["paths"]![path]![method]!["responses"]!.AsObject().Select(r => r.Key).Order(StringComparer.Ordinal)];
        string[] Parameters(string path, string method) =>
            [.. doc["paths"]![path]![method]!["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>())];

        Assert.Equal(["202", "400", "404", "409", "413", "422"], Statuses("/api/v1/migrations", "post"));
        Assert.Equal(["202", "400", "404", "409"], Statuses("/api/v1/migrations/{id}/cancel", "post"));
        Assert.Equal(["200", "204", "400", "404"], Statuses("/api/v1/migrations/{id}/events", "get"));
        Assert.Equal(["201", "303", "400", "422"], Statuses("/api/v1/subscriptions", "post"));
        Assert.Equal(["200", "400", "404"], Statuses("/api/v1/guests/{guest}", "get"));
        Assert.Equal(["204", "400", "404", "409"], Statuses("/api/v1/hosts/{host}", "delete"));
        Assert.Equal(["state", "host", "guest", "from", "to", "pageSize", "pageToken", "vnfInstanceId"], Parameters("/api/v1/migrations", "get"));
        Assert.Equal(["state", "host", "guest", "from", "to", "Last-Event-ID"], Parameters("/api/v1/events", "get"));
        Assert.Equal(["host", "state", "pageSize", "pageToken"], Parameters("/api/v1/guests", "get"));
        Assert.Equal(["state", "pageSize", "pageToken"], Parameters("/api/v1/hosts", "get"));
        Assert.Equal(["from", "to", "host"], Parameters("/api/v1/reports/sla", "get"));
        Assert.Equal(["pageSize", "pageToken"], Parameters("/api/v1/subscriptions", "get"));

        // The typed ones say their wire type (they bind as QueryInt and QueryTime, which name the bad value's parameter).
        string Schema(string path, string name) =>
            doc["paths"]![path]!["get"]!["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == name)!["schema"]!.ToJsonString();
        Assert.Equal("""{"type":"integer","format":"int32"}""", Schema("/api/v1/migrations", "pageSize"));
        Assert.Equal("""{"type":"string","format":"date-time"}""", Schema("/api/v1/migrations", "from"));
        Assert.Equal("""{"type":"string","format":"date-time"}""", Schema("/api/v1/reports/sla", "to"));
        Assert.Equal("""{"type":"integer","format":"int32"}""", Schema("/api/v1/subscriptions", "pageSize"));
    }

    [Fact]
    public async Task Swagger_ui_offers_the_authorize_button_for_api_keys_and_tokens()
    {
        var doc = JsonNode.Parse(await Client.GetStringAsync("/swagger/v1/swagger.json", Ct))!;
        var schemes = doc["components"]!["securitySchemes"]!.AsObject();

        Assert.Equal("X-Api-Key", schemes["ApiKey"]!["name"]!.GetValue<string>());
        Assert.Equal("bearer", schemes["Bearer"]!["scheme"]!.GetValue<string>());
        var required = doc["security"]!.AsArray().SelectMany(r => r!.AsObject().Select(p => p.Key)).ToHashSet();
        Assert.Equal(new HashSet<string> { "ApiKey", "Bearer" }, required);
    }

    [Fact]
    public async Task Prometheus_metrics_include_the_migration_meter()
    {
        var text = await Client.GetStringAsync("/metrics", Ct);
        Assert.Contains("ferry_migrations_active", text);
    }
}
