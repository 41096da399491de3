using System.Text.Json.Nodes;
using Ferry.Deploy.Tests.Support;
using Ferry.Deploy.Tests.Yaml;
using Ferry.Testing;

namespace Ferry.Deploy.Tests.Chart;

/// <summary>
/// The API process started with exactly the environment and files its pod gets (<see cref="FerryRelease.Pod"/>)
/// runs its own start checks (options validation, certificates, migrations) and becomes ready. Two things
/// differ from a cluster, because this machine is not one: Kestrel listens on free loopback ports instead of
/// 0.0.0.0:8080 and :8443, and a bundled PostgreSQL's Service name is replaced by the test's server.
/// </summary>
public sealed class ApiStartTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    public static TheoryData<string> ValueSets() => ChartRenderingTests.ValueSets();

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_API_starts_with_its_pods_environment_and_takes_the_keys_from_the_Secret(string set)
    {
        using var release = await FerryRelease.InstallAsync(ChartRenderingTests.ValuesOf(set), await postgres.CreateDatabaseAsync());

        await using var api = await StartAsync(release);

        Assert.True(await api.ReadyAsync(TestContext.Current.CancellationToken), $"the API did not become ready:\n{api.Process.Output}");
        foreach (var (client, key) in release.ApiKeys)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/hosts") { Headers = { { "X-Api-Key", key } } };
            using var response = await api.Http.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.True(response.IsSuccessStatusCode, $"{client}'s key from the Secret was refused: {(int)response.StatusCode}");
        }

        using var anonymous = await api.Http.GetAsync("/api/v1/hosts", TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Without_keys_or_an_issuer_the_API_refuses_to_start_even_when_the_schema_is_skipped()
    {
        // `helm install --skip-schema-validation` gets past values.schema.json; the API itself still fails closed.
        var values = HelmChart.Ferry.Values((JsonObject)YamlJson.Document("api: { auth: { apiKeys: { keys: [] } } }"));
        Assert.NotEmpty(ValuesSchema.Ferry.Problems(values));
        using var release = await FerryRelease.InstallAsync(values, await postgres.CreateDatabaseAsync());

        await using var api = await StartAsync(release);

        using var bound = new CancellationTokenSource(ApiProcess.StartBound);
        await api.Process.WaitForExitAsync(bound.Token);
        Assert.NotEqual(0, api.Process.ExitCode);
        Assert.Contains("No REST authentication is configured", api.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_allowAnonymous_and_no_keys_the_API_starts_open()
    {
        var values = HelmChart.Ferry.Values((JsonObject)YamlJson.Document("api: { auth: { apiKeys: { keys: [] }, allowAnonymous: true } }"));
        using var release = await FerryRelease.InstallAsync(values, await postgres.CreateDatabaseAsync());

        await using var api = await StartAsync(release);

        Assert.True(await api.ReadyAsync(TestContext.Current.CancellationToken), $"the API did not become ready:\n{api.Process.Output}");
        using var response = await api.Http.GetAsync("/api/v1/hosts", TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"an anonymous call was refused: {(int)response.StatusCode}");
    }

    private async Task<ApiProcess> StartAsync(FerryRelease release)
    {
        var env = new Dictionary<string, string>(release.Pod(release.Chart.Get("Deployment", "ferry-api"), "api").Environment, StringComparer.Ordinal);
        if (release.Values["database"]!["bundled"]!["enabled"]!.GetValue<bool>())
        {
            env["ConnectionStrings__Ferry"] = await postgres.CreateDatabaseAsync();
        }

        return ApiProcess.Start(env);
    }
}
