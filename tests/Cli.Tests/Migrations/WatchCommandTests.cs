using System.Text.Json;
using Ferry.Cli.Tests.Support;
using Ferry.Testing;

namespace Ferry.Cli.Tests.Migrations;

/// <summary><c>ferry watch</c> against the real API: one migration live in a terminal, every migration as JSON lines.</summary>
public sealed class WatchCommandTests(PostgresServer postgres) : CliTest(postgres)
{
    [Fact]
    public async Task Watch_in_a_terminal_follows_a_migration_through_its_phases_and_ends_with_the_result()
    {
        var id = await PostMigration(new { guest = "vnf-1", targetHost = "host-b" });
        var ferry = StartFerryInTerminal("watch", id, "--feed", "polling");
        await ferry.WaitForOutputAsync("queued", Ct);

        var run = await StartedOn(HostA, id);
        run.Progress(pass: 1, transferred: 64 << 20, remaining: 192 << 20, dirtyPagesPerSecond: 1200, throughputMbps: 900);
        await ferry.WaitForOutputAsync("running", Ct);
        run.Complete(totalMs: 400, downtimeMs: 5);
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        var screen = PseudoTerminal.Visible(result.Output);
        Assert.Contains("\u001b[?25l", result.Output);
        Assert.Contains("vnf-1  host-a → host-b", screen);
        Assert.Contains($"{id} (polling)", screen);
        Assert.Contains("queued › scheduled › preparingTarget", screen);
        Assert.Matches(@"total time\s+│\s+400 ms\s+│\s+max 2,000 ms", screen);
        Assert.Matches(@"\u001b\[[0-9;]*(32|92|38;5;2|38;5;10)[0-9;]*mmet\u001b\[0m", result.Output);
    }

    [Fact]
    public async Task Watch_of_every_migration_writes_a_JSON_line_per_change_until_Ctrl_C_then_exits_0()
    {
        var ferry = StartFerry("watch", "-o", "json", "--feed", "polling");
        var id = await PostMigration(new { guest = "vnf-1", targetHost = "host-b" });
        await ferry.WaitForOutputAsync(id, Ct);
        (await StartedOn(HostA, id)).Complete(totalMs: 400, downtimeMs: 5);
        await ferry.WaitForOutputAsync("\"completed\"", Ct);
        await ferry.InterruptAsync(Ct);
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(lines, l => Assert.Equal(id, l.GetProperty("migrationId").GetString()));
        Assert.Equal("queued", lines[0].GetProperty("state").GetString());
        Assert.Equal("completed", lines[^1].GetProperty("state").GetString());
        Assert.True(lines[0].TryGetProperty("remainingBytes", out _), "the sample's fields are the event stream's names");
    }
}
