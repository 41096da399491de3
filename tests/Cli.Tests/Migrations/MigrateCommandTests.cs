using System.Text.Json;
using Ferry.Cli.Tests.Support;
using Ferry.Testing;

namespace Ferry.Cli.Tests.Migrations;

/// <summary><c>ferry migrate</c> against the real API: what it asks for, how it follows, what it exits with.</summary>
public sealed class MigrateCommandTests(PostgresServer postgres) : CliTest(postgres)
{
    [Fact]
    public async Task Migrate_wait_follows_the_migration_to_its_result_and_exits_0()
    {
        var ferry = StartFerry("migrate", "vnf-1", "--to", "host-b", "--wait", "--feed", "polling");
        var id = await FollowedMigration(ferry);
        Assert.Contains($"following migration {id} (polling)", ferry.Output);

        var run = await StartedOn(HostA, id);
        await ferry.WaitForOutputAsync("running", Ct);
        run.Complete(totalMs: 400, downtimeMs: 5);
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        // One line per phase it saw, then the result against the policy's limits and the verdict.
        Assert.Contains("vnf-1  running", result.Output);
        Assert.Contains("completed", result.Output);
        Assert.Matches(@"total time\s+│\s+400 ms\s+│\s+max 2,000 ms", result.Output);
        Assert.Matches(@"downtime\s+│\s+5 ms\s+│\s+max 10 ms", result.Output);
        Assert.Matches(@"SLA\s+│\s+met", result.Output);
        Assert.Equal("", result.Error);
        Assert.Equal("completed", (await Get($"/api/v1/migrations/{id}")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Migrate_wait_with_json_output_prints_the_finished_migration_as_the_api_returns_it()
    {
        var ferry = StartFerry("migrate", "vnf-1", "--to", "host-b", "--wait", "--output", "json");
        var id = await MigrationOf("vnf-1");
        (await StartedOn(HostA, id)).Complete(totalMs: 380, downtimeMs: 4);
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        var printed = JsonDocument.Parse(result.Output).RootElement;
        SameJson(await Get($"/api/v1/migrations/{id}"), printed);
        Assert.Equal("completed", printed.GetProperty("state").GetString());
        Assert.True(printed.GetProperty("result").GetProperty("slaMet").GetBoolean());
    }

    [Fact]
    public async Task A_migration_that_fails_exits_1_with_the_agents_reason()
    {
        var ferry = StartFerry("migrate", "vnf-1", "--to", "host-b", "--wait");
        var id = await FollowedMigration(ferry);
        (await StartedOn(HostA, id)).Fail("destination QEMU exited");
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("failed", result.Output);
        Assert.Contains("destination QEMU exited", result.Output);
    }

    [Fact]
    public async Task A_missed_SLA_exits_1_only_with_fail_on_sla()
    {
        var lenient = StartFerry("migrate", "vnf-1", "--to", "host-b", "--wait");
        (await StartedOn(HostA, await FollowedMigration(lenient))).Complete(totalMs: 400, downtimeMs: 50);
        var first = await lenient.ExitAsync(Ct);
        await Settle();

        var strict = StartFerry("migrate", "vnf-1", "--to", "host-a", "--wait", "--fail-on-sla");
        (await StartedOn(HostB, await FollowedMigration(strict))).Complete(totalMs: 400, downtimeMs: 50);
        var second = await strict.ExitAsync(Ct);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Matches(@"SLA\s+│\s+missed", first.Output);
        Assert.True(second.ExitCode == 1, second.ToString());
        Assert.Matches(@"SLA\s+│\s+missed", second.Output);
    }

    [Fact]
    public async Task Policy_options_become_the_migrations_policy()
    {
        var result = await Ferry("migrate", "vnf-1", "--to", "host-b", "--transport", "native", "--max-downtime-ms", "20",
            "--max-total-ms", "3000", "--bandwidth-mbps", "500", "-o", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var policy = JsonDocument.Parse(result.Output).RootElement.GetProperty("policy");
        Assert.Equal("native", policy.GetProperty("transport").GetString());
        Assert.Equal(20, policy.GetProperty("maxDowntimeMs").GetDouble());
        Assert.Equal(3000, policy.GetProperty("maxTotalTimeMs").GetDouble());
        Assert.Equal(500, policy.GetProperty("bandwidthMbps").GetInt32());
        Assert.Equal("queued", JsonDocument.Parse(result.Output).RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Without_wait_it_prints_the_accepted_migration_and_how_to_follow_it()
    {
        var result = await Ferry("migrate", "vnf-1", "--to", "host-b");

        Assert.True(result.ExitCode == 0, result.ToString());
        var id = await MigrationOf("vnf-1");
        Assert.Contains($"migration  {id}", result.Output);
        Assert.Contains("vnf-1  host-a → host-b", result.Output);
        Assert.Contains($"follow it with: ferry watch {id}", result.Output);
    }

    [Fact]
    public async Task An_unknown_guest_exits_2_with_the_APIs_explanation()
    {
        var result = await Ferry("migrate", "no-such-guest", "--to", "host-b");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("ferry: the API answered 404", result.Error);
        Assert.Contains("no-such-guest", result.Error);
    }

    [Fact]
    public async Task A_guest_already_migrating_is_refused_with_exit_3()
    {
        await PostMigration(new { guest = "vnf-1", targetHost = "host-b" });

        var result = await Ferry("migrate", "vnf-1", "--to", "host-b");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.StartsWith("ferry: the API answered 409", result.Error);
    }

    [Fact]
    public async Task Ctrl_C_while_waiting_exits_130_and_leaves_the_migration_running()
    {
        var ferry = StartFerry("migrate", "vnf-1", "--to", "host-b", "--wait");
        var id = await FollowedMigration(ferry);
        await ferry.InterruptAsync(Ct);
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 130, result.ToString());
        Assert.Contains($"stopped watching; migration {id} goes on", result.Error);
        Assert.Equal("queued", (await Get($"/api/v1/migrations/{id}")).GetProperty("state").GetString());
    }

    /// <summary>The id of the guest's newest migration, once ferry has asked for it.</summary>
    private async Task<string> MigrationOf(string guest)
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        guard.CancelAfter(FerryProcess.Patience);
        while (true)
        {
            var items = (await Get($"/api/v1/migrations?guest={guest}")).GetProperty("items");
            if (items.GetArrayLength() > 0)
            {
                return items[0].GetProperty("id").GetString()!;
            }

            await Task.Delay(50, guard.Token);
        }
    }
}
