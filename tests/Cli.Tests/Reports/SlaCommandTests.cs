using System.Text.Json;
using Ferry.Cli.Tests.Support;
using Ferry.Testing;

namespace Ferry.Cli.Tests.Reports;

/// <summary><c>ferry sla</c>: the API's SLA report.</summary>
public sealed class SlaCommandTests(PostgresServer postgres) : CliTest(postgres)
{
    [Fact]
    public async Task Sla_shows_the_overall_figures_and_each_host_pair_and_json_is_the_APIs()
    {
        var there = await PostMigration(new { guest = "vnf-1", targetHost = "host-b" });
        (await StartedOn(HostA, there)).Complete(totalMs: 400, downtimeMs: 4);
        await Settle();
        var back = await PostMigration(new { guest = "vnf-1", targetHost = "host-a" });
        (await StartedOn(HostB, back)).Complete(totalMs: 900, downtimeMs: 30);
        await Settle();

        var table = await Ferry("sla");
        var json = await Ferry("sla", "-o", "json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches(@"all\s+all\s+2\s+2\s+0\s+0\s+100%\s+50%", table.Output);
        Assert.Matches(@"host-a\s+host-b\s+1\s+1\s+0\s+0\s+100%\s+100%", table.Output);
        Assert.Matches(@"host-b\s+host-a\s+1\s+1\s+0\s+0\s+100%\s+0%", table.Output);
        SameJson(await Get("/api/v1/reports/sla"), JsonDocument.Parse(json.Output).RootElement);
    }

    [Fact]
    public async Task A_from_after_to_is_a_usage_error_and_a_malformed_time_too()
    {
        var reversed = await Ferry("sla", "--from", "2026-12-02T00:00:00Z", "--to", "2026-12-01T00:00:00Z");
        var malformed = await Ferry("sla", "--from", "yesterday");

        Assert.True(reversed.ExitCode == 2, reversed.ToString());
        Assert.Contains("--from must not be after --to", reversed.Error);
        Assert.True(malformed.ExitCode == 2, malformed.ToString());
    }
}
