using System.Text.Json;
using Ferry.Cli.Tests.Support;
using Ferry.Testing;

namespace Ferry.Cli.Tests.Migrations;

/// <summary><c>ferry migrations</c>, <c>show</c> and <c>cancel</c>: the API's records as tables and as its own JSON.</summary>
public sealed class MigrationHistoryTests(PostgresServer postgres) : CliTest(postgres)
{
    [Fact]
    public async Task Migrations_json_is_the_APIs_list_items_newest_first()
    {
        var completed = await Completed("host-b", downtimeMs: 4);
        Clock.Advance(TimeSpan.FromSeconds(1));
        var queued = await PostMigration(new { guest = "vnf-1", targetHost = "host-a" });

        var result = await Ferry("migrations", "-o", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var printed = JsonDocument.Parse(result.Output).RootElement;
        SameJson((await Get("/api/v1/migrations")).GetProperty("items"), printed);
        Assert.Equal([queued, completed], printed.EnumerateArray().Select(m => m.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Migrations_table_shows_route_state_and_verdict_and_filters_by_state()
    {
        var completed = await Completed("host-b", downtimeMs: 4);
        var queued = await PostMigration(new { guest = "vnf-1", targetHost = "host-a" });

        var all = await Ferry("migrations");
        var onlyCompleted = await Ferry("migrations", "--state", "completed", "--guest", "vnf-1");

        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Matches($@"{completed}\s+vnf-1\s+host-a\s+host-b\s+completed\s+qemu\s+400 ms\s+4 ms\s+met", all.Output);
        Assert.Matches($@"{queued}\s+vnf-1\s+host-b\s+host-a\s+queued", all.Output);
        Assert.Contains(completed, onlyCompleted.Output);
        Assert.DoesNotContain(queued, onlyCompleted.Output);
    }

    [Fact]
    public async Task Show_prints_the_policy_the_timeline_and_the_result()
    {
        var id = await Completed("host-b", downtimeMs: 4);

        var table = await Ferry("show", id);
        var json = await Ferry("show", id, "--output", "json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches(@"policy\s+downtime ≤ 10 ms, total ≤ 2,000 ms, transport auto", table.Output);
        foreach (var phase in (string[])["queued", "scheduled", "preparingTarget", "targetReady", "running", "switchingOver", "cleaningUp", "completed"])
        {
            Assert.Contains(phase, table.Output);
        }

        Assert.Matches(@"SLA\s+│\s+met", table.Output);
        SameJson(await Get($"/api/v1/migrations/{id}"), JsonDocument.Parse(json.Output).RootElement);
    }

    [Fact]
    public async Task Cancel_stops_a_queued_migration_and_watch_then_exits_1()
    {
        var id = await PostMigration(new { guest = "vnf-1", targetHost = "host-b" });

        var cancel = await Ferry("cancel", id, "-o", "json");
        var watch = await Ferry("watch", id);

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Equal("cancelled", JsonDocument.Parse(cancel.Output).RootElement.GetProperty("state").GetString());
        Assert.True(watch.ExitCode == 1, watch.ToString());
        Assert.Contains("cancelled", watch.Output);
    }

    [Fact]
    public async Task Show_of_an_unknown_migration_exits_2_and_a_malformed_id_is_a_usage_error()
    {
        var unknown = await Ferry("show", Guid.NewGuid().ToString());
        var malformed = await Ferry("show", "not-an-id");

        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.Contains("404", unknown.Error);
        Assert.True(malformed.ExitCode == 2, malformed.ToString());
        Assert.Contains("not-an-id", malformed.Error);
        Assert.Contains("Try 'ferry --help'.", malformed.Error);
    }

    /// <summary>A migration of vnf-1 to <paramref name="target"/> driven to its end through the real flow.</summary>
    private async Task<string> Completed(string target, double downtimeMs)
    {
        var id = await PostMigration(new { guest = "vnf-1", targetHost = target });
        (await StartedOn(target == "host-b" ? HostA : HostB, id)).Complete(totalMs: 400, downtimeMs: downtimeMs);
        await Settle();
        return id;
    }
}
