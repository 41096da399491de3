using System.Text.Json.Nodes;
using Ferry.Deploy.Tests.Yaml;

namespace Ferry.Deploy.Tests.Chart;

/// <summary>values.schema.json takes the chart's own values and refuses, before anything renders, values Helm would otherwise install broken.</summary>
public sealed class ValuesSchemaTests
{
    public static TheoryData<string> ValueSets() => ChartRenderingTests.ValueSets();

    /// <summary>What a user's -f file says (YAML), the location the schema must blame, and why it is wrong.</summary>
    public static TheoryData<string, string, string> BadValues() => new()
    {
        { "api: { replicas: two }", "/api/replicas", "a string where a number goes" },
        { "api: { replicas: 1 }", "/api/replicas", "one replica: the API's scheduler and a node drain need two" },
        { "api: { replica: 3 }", "/api", "a misspelt key Helm would ignore" },
        { "api: { image: { repository: null } }", "/api/image", "a required value deleted (a user's null removes the key)" },
        { "api: { auth: { apiKeys: { keys: [] } } }", "/api/auth", "no API key, no token issuer and no allowAnonymous: the API refuses to start" },
        { "api: { auth: { apiKeys: { keys: [ { name: admin, secretKey: admin, scopes: [root] } ] } } }", "/api/auth/apiKeys/keys/0/scopes/0", "a scope the API does not have" },
        { "api: { auth: { jwt: { authority: https://issuer.example.net } } }", "/api/auth/jwt", "a token issuer without the audience the API requires" },
        { "database: { existingSecret: '' }", "/database", "no database at all: neither a connection string Secret nor the bundled PostgreSQL" },
        { "database: { bundled: { enabled: true } }", "/database/bundled", "a bundled PostgreSQL with neither a password nor a Secret holding one" },
        { "agent: { tls: { source: secret } }", "/agent/tls", "agents' certificates from a Secret that is not named" },
        { "agent: { hugepagesMedium: HugePages-4Mi }", "/agent/hugepagesMedium", "a hugepage size x86 does not have" },
        { "heartbeatInterval: 5", "/heartbeatInterval", "a number where a .NET TimeSpan goes" },
        { "otlpEndpoint: otel-collector:4317", "/otlpEndpoint", "an OTLP endpoint that is no URL" },
    };

    [Theory]
    [MemberData(nameof(ValueSets))]
    public void The_charts_own_values_conform(string set)
    {
        var problems = ValuesSchema.Ferry.Problems(ChartRenderingTests.ValuesOf(set));

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Bad_values_are_refused_at_the_value_that_is_wrong(string user, string location, string why)
    {
        var values = HelmChart.Ferry.Values((JsonObject)YamlJson.Document(user));

        var problems = ValuesSchema.Ferry.Problems(values);

        Assert.True(problems.Any(p => p.StartsWith(location, StringComparison.Ordinal)),
            $"{why}: expected a problem at {location}, got: {(problems.Count == 0 ? "none" : string.Join("\n", problems))}");
    }

    [Fact]
    public void Allowing_anonymous_access_on_purpose_is_accepted_without_keys()
    {
        var values = HelmChart.Ferry.Values((JsonObject)YamlJson.Document("api: { auth: { apiKeys: { keys: [] }, allowAnonymous: true } }"));

        var problems = ValuesSchema.Ferry.Problems(values);

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
