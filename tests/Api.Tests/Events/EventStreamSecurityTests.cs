using System.Net;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Events;

/// <summary>The event streams take the same keys as the rest of /api/v1; reading them needs the read scope.</summary>
public sealed class EventStreamSecurityTests(PostgresServer postgres) : ApiTest(postgres)
{
    private const string ReadKey = "read-key-0123456789";

    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Ferry:Security:ApiKeys:0:Name"] = "dashboard",
        ["Ferry:Security:ApiKeys:0:Key"] = ReadKey,
        ["Ferry:Security:ApiKeys:0:Scopes:0"] = "read",
    };

    [Theory]
    [InlineData("/api/v1/events")]
    [InlineData("/api/v1/migrations/0195a3c4-0000-7000-8000-000000000000/events")]
    public async Task Without_a_key_a_stream_is_401(string path)
    {
        await Problem(await EventStreamReader.SendAsync(Client, path), HttpStatusCode.Unauthorized);
        await Problem(await EventStreamReader.SendAsync(Client, path, apiKey: "not-a-key-0123456789"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_read_key_opens_the_streams()
    {
        await using var all = await EventStreamReader.OpenAsync(Client, "/api/v1/events", apiKey: ReadKey);
        // Past authorization: the migration does not exist.
        await Problem(await EventStreamReader.SendAsync(Client, "/api/v1/migrations/0195a3c4-0000-7000-8000-000000000000/events", apiKey: ReadKey),
            HttpStatusCode.NotFound);
    }
}
