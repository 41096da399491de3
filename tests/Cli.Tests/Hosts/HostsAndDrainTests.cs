using System.Text.Json;
using Ferry.Cli.Tests.Support;
using Ferry.Testing;

namespace Ferry.Cli.Tests.Hosts;

/// <summary><c>ferry hosts</c> and <c>ferry drain</c>.</summary>
public sealed class HostsAndDrainTests(PostgresServer postgres) : CliTest(postgres)
{
    [Fact]
    public async Task Hosts_lists_each_host_with_its_guests_and_json_is_the_APIs()
    {
        var table = await Ferry("hosts");
        var json = await Ferry("hosts", "-o", "json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches(@"host-a\s+ready\s+10\.0\.0\.1\s+qemu64\s+yes\s+16\.0 GiB\s+-\s+1\s+7\.2\.0", table.Output);
        Assert.Matches(@"host-b\s+ready\s+10\.0\.0\.2\s+qemu64\s+yes\s+16\.0 GiB\s+-\s+0\s+7\.2\.0", table.Output);
        SameJson((await Get("/api/v1/hosts")).GetProperty("items"), JsonDocument.Parse(json.Output).RootElement);
    }

    [Fact]
    public async Task Drain_moves_every_guest_off_the_host_one_line_each_and_exits_0()
    {
        await DefineGuest("vnf-2", "host-a");
        CompleteAtOnce(HostA);

        var ferry = StartFerry("drain", "host-a");
        await ferry.WaitForOutputAsync("vnf-2", Ct);
        // The API moves one guest at a time off a host (Scheduler:MaxOutboundPerHost): a pass per guest.
        for (var i = 0; i < 2; i++)
        {
            await Schedule();
            await Settle();
        }

        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"vnf-1\s+host-a → host-b\s+completed.*SLA met", result.Output);
        Assert.Matches(@"vnf-2\s+host-a → host-b\s+completed.*SLA met", result.Output);
        Assert.Contains("host-a is draining: 2 of 2 guests moved", result.Output);
        Assert.Equal("draining", (await Get("/api/v1/hosts/host-a")).GetProperty("state").GetString());
        Assert.All((await Get("/api/v1/guests")).GetProperty("items").EnumerateArray(), g => Assert.Equal("host-b", g.GetProperty("host").GetString()));
    }

    [Fact]
    public async Task Drain_exits_1_when_a_guest_could_not_move()
    {
        var ferry = StartFerry("drain", "host-a", "-o", "json");
        var id = await WaitForMigration();
        (await StartedOn(HostA, id)).Fail("not enough hugepages on the target");
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 1, result.ToString());
        var printed = JsonDocument.Parse(result.Output).RootElement;
        Assert.Equal("draining", printed.GetProperty("host").GetProperty("state").GetString());
        var migration = Assert.Single(printed.GetProperty("migrations").EnumerateArray());
        Assert.Equal("failed", migration.GetProperty("state").GetString());
        Assert.Equal("not enough hugepages on the target", migration.GetProperty("failureReason").GetString());
    }

    [Fact]
    public async Task Drain_of_an_unknown_host_exits_2()
    {
        var result = await Ferry("drain", "host-z");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("404", result.Error);
    }

    private async Task<string> WaitForMigration()
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        guard.CancelAfter(FerryProcess.Patience);
        while (true)
        {
            var items = (await Get("/api/v1/migrations?guest=vnf-1")).GetProperty("items");
            if (items.GetArrayLength() > 0)
            {
                return items[0].GetProperty("id").GetString()!;
            }

            await Task.Delay(50, guard.Token);
        }
    }
}
