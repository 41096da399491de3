using Ferry.Api.Persistence;
using Ferry.Api.Tests.Support;
using Ferry.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Ferry.Api.Tests.Migrations;

public sealed class MigrationListTests(PostgresServer postgres) : ApiTest(postgres)
{
    private static readonly DateTimeOffset Day = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await using var scope = Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
        var (a, b, c, g) = await History.HostsAndGuest(db);
        for (var i = 0; i < 7; i++)
        {
            db.Add(History.Completed(g, a, b, Day.AddMinutes(i), 300, 3));
        }

        db.Add(History.Failed(g, a, c, Day.AddMinutes(10)));
        db.Add(History.Completed(g, b, c, Day.AddMinutes(11), 300, 3));
        await db.SaveChangesAsync(Ct);
    }

    private async Task<List<string>> States(string query) =>
        (await Json(await Client.GetAsync($"/api/v1/migrations?{query}", Ct)))["items"]!.AsArray()
            .Select(m => m!["state"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task Pages_cover_every_migration_once_newest_first()
    {
        var seen = new List<DateTimeOffset>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Json(await Client.GetAsync($"/api/v1/migrations?pageSize=4{(token is null ? "" : $"&pageToken={token}")}", Ct));
            seen.AddRange(page["items"]!.AsArray().Select(m => m!["createdAt"]!.GetValue<DateTimeOffset>()));
            token = page["nextPageToken"]?.GetValue<string>();
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal(9, seen.Count);
        Assert.Equal(seen.OrderByDescending(t => t), seen);
        Assert.Equal(9, seen.Distinct().Count());
    }

    [Fact]
    public async Task Filters_by_state_host_guest_and_time_combine()
    {
        Assert.Equal(["failed"], await States("state=failed"));
        Assert.Equal(2, (await States("host=host-c")).Count);
        Assert.Equal(["completed"], await States("host=host-c&state=completed"));
        Assert.Equal(9, (await States("guest=vnf-1")).Count);
        Assert.Empty(await States("guest=vnf-2"));
        Assert.Equal(3, (await States("from=2026-11-20T00:04:00Z&to=2026-11-20T00:07:00Z")).Count);
        // Offsets other than UTC mean the same instant.
        Assert.Equal(3, (await States("from=2026-11-20T01:04:00%2B01:00&to=2026-11-20T01:07:00%2B01:00")).Count);
    }

    [Fact]
    public async Task A_migration_reads_with_its_result_and_full_timeline()
    {
        var items = (await Json(await Client.GetAsync("/api/v1/migrations?state=completed&pageSize=1", Ct)))["items"]!.AsArray();
        var m = await GetMigration(items[0]!["id"]!.GetValue<string>());

        var result = m["result"]!;
        Assert.Equal("qemu", result["transport"]!.GetValue<string>());
        Assert.Equal(300, result["totalTimeMs"]!.GetValue<double>());
        Assert.Equal(3, result["downtimeMs"]!.GetValue<double>());
        Assert.True(result["slaMet"]!.GetValue<bool>());
        Assert.True(result["operationTimeMs"]!.GetValue<double>() > 0);
        foreach (var field in new[] { "networkDowntimeMs", "setupTimeMs", "bytesTransferred", "zeroPages", "normalPages", "passes", "dirtyPagesPerSecond", "throughputMbps" })
        {
            Assert.True(result.AsObject().ContainsKey(field), field);
        }

        Assert.Equal(
            ["queued", "scheduled", "preparingTarget", "targetReady", "running", "switchingOver", "cleaningUp", "completed"],
            m["timeline"]!.AsArray().Select(e => e!["state"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_native_migration_reads_with_its_switch_over_taken_apart_its_ram_check_and_the_moments_on_its_timeline()
    {
        Guid id;
        var paused = Day.AddHours(1);
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
            var hosts = db.Hosts.OrderBy(h => h.Name).ToList();
            var guest = db.Guests.First();
            var m = History.Started(guest, hosts[0], hosts[1], paused.AddSeconds(-1));
            m.Advance(Ferry.Domain.Migrations.MigrationState.SwitchingOver, paused.AddMilliseconds(2));
            m.Advance(Ferry.Domain.Migrations.MigrationState.CleaningUp, paused.AddMilliseconds(20));
            m.Complete(
                new Ferry.Domain.Migrations.MigrationResult
                {
                    Transport = Ferry.Domain.Migrations.TransportKind.Native, TotalTimeMs = 500, DowntimeMs = 6, NetworkDowntimeMs = 9, FramesCorrupt = 0,
                    RamCheck = "RAM check: all 32768 pages match what was sent",
                    Switchover = new Ferry.Domain.Migrations.SwitchoverParts
                    {
                        PauseMs = 2, FinalScanMs = 0.5, FinalTransferMs = 1.5, TargetStartMs = 2, PortsUpMs = 2, TrafficMs = 1,
                        PausedAt = paused, RunningAt = paused.AddMilliseconds(6), PortsUpAt = paused.AddMilliseconds(8),
                    },
                },
                paused.AddMilliseconds(30));
            db.Add(m);
            await db.SaveChangesAsync(Ct);
            id = m.Id;
        }

        var read = await GetMigration(id.ToString());

        var result = read["result"]!;
        Assert.Equal("RAM check: all 32768 pages match what was sent", result["ramCheck"]!.GetValue<string>());
        Assert.Equal(0, result["framesCorrupt"]!.GetValue<long>());
        var parts = result["switchover"]!;
        Assert.Equal(2, parts["pauseMs"]!.GetValue<double>());
        Assert.Equal(2, parts["portsUpMs"]!.GetValue<double>());
        Assert.Equal(1, parts["trafficMs"]!.GetValue<double>());
        Assert.NotNull(parts["runningAt"]);
        var timeline = read["timeline"]!.AsArray();
        Assert.Equal(["guestPaused", "targetRunning", "portsUp"], timeline.Where(e => e!["event"] is not null).Select(e => e!["event"]!.GetValue<string>()));
        Assert.Equal("completed", timeline[^1]!["state"]!.GetValue<string>());
    }
}
