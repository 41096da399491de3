using System.Net;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Scheduling;

/// <summary>Several API replicas share one queue.</summary>
public sealed class SchedulerReplicaTests(PostgresServer postgres) : ApiTest(postgres)
{
    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Ferry:Scheduler:MaxOutboundPerHost"] = "100",
        ["Ferry:Scheduler:MaxInboundPerHost"] = "100",
        ["Ferry:Scheduler:MaxClusterWide"] = "100",
        ["Ferry:Scheduler:BatchSize"] = "3",
    };

    private async Task<List<Guid>> RequestMany(int count)
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            await DefineGuest($"vnf-{i}", "host-a");
            // Generous timeouts: these tests are about claims and leases, not about timeouts.
            var response = await PostMigration(new
            {
                guest = $"vnf-{i}", targetHost = "host-b", policy = new { progressTimeoutSeconds = 3600, completionTimeoutSecondsPerGiB = 3600 },
            });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.Add(Guid.Parse((await Json(response))["id"]!.GetValue<string>()));
        }

        return ids;
    }

    [Fact]
    public async Task Two_schedulers_never_claim_the_same_migration()
    {
        var ids = await RequestMany(24);
        var other = NewInstance("replica-2");

        // Both replicas poll at the same time, repeatedly, until the queue is drained.
        for (var round = 0; round < 12; round++)
        {
            await Task.WhenAll(Factory.Scheduler.RunOnceAsync(Ct), other.Scheduler.RunOnceAsync(Ct));
        }

        // Every migration is in flight at exactly one replica; the dispatcher saw each once.
        Assert.Empty(Factory.Scheduler.InFlight.Intersect(other.Scheduler.InFlight));
        Assert.Equal(ids.Count, Factory.Scheduler.InFlight.Count + other.Scheduler.InFlight.Count);
        var mine = (await Factory.Dispatcher.RunsStarted(Factory.Scheduler.InFlight.Count)).ToList();
        var theirs = (await other.Dispatcher.RunsStarted(other.Scheduler.InFlight.Count)).ToList();
        Assert.Empty(mine.Intersect(theirs));
        Assert.Equal(mine.Count, mine.Distinct().Count());
        Assert.Equal(theirs.Count, theirs.Distinct().Count());
        Assert.Equal(ids.Order(), mine.Concat(theirs).Order());
        Assert.NotEmpty(mine);
        Assert.NotEmpty(theirs);
    }

    [Fact]
    public async Task A_replica_takes_over_migrations_whose_lease_expired()
    {
        var ids = await RequestMany(1);
        await Factory.Scheduler.RunOnceAsync(Ct);
        Assert.Equal(ids, await Factory.Dispatcher.RunsStarted(1));

        // The first replica stops renewing (it died); the second sees the lease expire.
        var other = NewInstance("replica-2");
        other.Clock.SetUtcNow(Factory.Clock.GetUtcNow() + TimeSpan.FromSeconds(10));
        await other.Scheduler.RunOnceAsync(Ct);
        Assert.Empty(other.Scheduler.InFlight);

        other.Clock.Advance(TimeSpan.FromSeconds(25));
        await other.Scheduler.RunOnceAsync(Ct);
        Assert.Equal(ids, await other.Dispatcher.RunsStarted(1));
    }
}
