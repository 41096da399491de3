using System.Text.Json;
using Ferry.Cli.Tests.Support;
using Ferry.Testing;

namespace Ferry.Cli.Tests.Guests;

/// <summary><c>ferry guests</c>.</summary>
public sealed class GuestsCommandTests(PostgresServer postgres) : CliTest(postgres)
{
    [Fact]
    public async Task Guests_lists_each_guest_by_host_and_json_is_the_APIs()
    {
        await DefineGuest("vnf-2", "host-b");

        var table = await Ferry("guests");
        var onHostB = await Ferry("guests", "--host", "host-b");
        var json = await Ferry("guests", "-o", "json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches(@"vnf-1\s+host-a\s+defined\s+1\.0 GiB\s+2\s+idle", table.Output);
        Assert.Matches(@"vnf-2\s+host-b\s+defined\s+1\.0 GiB\s+2\s+idle", table.Output);
        Assert.Contains("vnf-2", onHostB.Output);
        Assert.DoesNotContain("vnf-1", onHostB.Output);
        SameJson((await Get("/api/v1/guests")).GetProperty("items"), JsonDocument.Parse(json.Output).RootElement);
    }

    [Fact]
    public async Task A_state_the_API_does_not_know_is_a_usage_error()
    {
        var result = await Ferry("guests", "--state", "flying");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("flying", result.Error);
    }
}
