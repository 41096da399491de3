using System.Net;
using Ferry.Api.Persistence;
using Ferry.Api.Tests.Support;
using Ferry.Contracts;
using Ferry.Testing;
using Ferry.Testing.Api;
using Grpc.Net.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ferry.Api.Tests.Events;

/// <summary>
/// The event streams over real PostgreSQL, with migrations driven by the real dispatcher against
/// agents that answer over real gRPC. Times come from the factory's fake clock, so the progress
/// throttle is counted, never timed.
/// </summary>
public sealed class MigrationEventStreamTests(PostgresServer postgres) : ApiTest(postgres)
{
    private const long MiB = 1 << 20;

    private static readonly string[] FullFlow =
        ["queued", "scheduled", "preparingTarget", "targetReady", "running", "switchingOver", "cleaningUp", "completed"];

    private readonly LoopbackAgent _source = new();
    private readonly LoopbackAgent _target = new();
    private ControlPlane.ControlPlaneClient _plane = null!;

    protected override bool RealDispatcher => true;

    public override async ValueTask InitializeAsync()
    {
        await _source.StartAsync();
        await _target.StartAsync();
        await base.InitializeAsync();
        _plane = new ControlPlane.ControlPlaneClient(GrpcChannel.ForAddress(Factory.Server.BaseAddress,
            new GrpcChannelOptions { HttpHandler = Factory.Server.CreateHandler() }));
        var inventory = new HostInventory { CpuModel = "qemu64", MemoryFreeMib = 16384 };
        await _plane.RegisterAsync(new RegisterRequest { HostName = "host-a", MigrationAddress = "10.0.0.1", AgentEndpoint = _source.Endpoint, Inventory = inventory }, cancellationToken: Ct);
        await _plane.RegisterAsync(new RegisterRequest { HostName = "host-b", MigrationAddress = "10.0.0.2", AgentEndpoint = _target.Endpoint, Inventory = inventory }, cancellationToken: Ct);
        await DefineGuest("vnf-1", "host-a");
        await DefineGuest("vnf-2", "host-a");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _source.DisposeAsync();
        await _target.DisposeAsync();
    }

    private async Task<string> RequestMigration(string guest = "vnf-1")
    {
        var response = await PostMigration(new { guest, targetHost = "host-b" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await Json(response))["id"]!.GetValue<string>();
    }

    /// <summary>One scheduler pass on <paramref name="replica"/>, then waits until its dispatcher has nothing left to do.</summary>
    private static async Task Settle(FerryApiFactory replica)
    {
        await replica.Scheduler.RunOnceAsync(Ct);
        for (var i = 0; i < 1200 && replica.Scheduler.InFlight.Count > 0; i++)
        {
            await Task.Delay(25, Ct);
        }

        Assert.Empty(replica.Scheduler.InFlight);
    }

    private static IEnumerable<(long?, string?, string?)> Wire(IEnumerable<ServerSentEvent> events) => events.Select(e => (e.Id, e.Kind, e.Data));

    [Fact]
    public async Task A_migrations_stream_shows_each_state_in_order_then_the_result_and_closes()
    {
        var id = await RequestMigration();
        await using var stream = await EventStreamReader.OpenAsync(Client, $"/api/v1/migrations/{id}/events");
        // Read before the scheduler runs: what follows arrives live, woken by PostgreSQL's notifications.
        var queued = await stream.NextAsync();
        Assert.Equal(("state", "queued"), (queued!.Kind, queued.State));

        await Settle(Factory);
        List<ServerSentEvent> events = [queued, .. await stream.ReadToEndAsync()];

        Assert.Equal(FullFlow, events.Where(e => e.Kind == "state").Select(e => e.State));
        Assert.All(events.Where(e => e.Kind != "progress"), e => Assert.Equal(id, e.Json["id"]!.GetValue<string>()));
        var ids = events.Select(e => e.Id!.Value).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());

        // The fake source reports one running sample: one progress event, after the running state.
        var progress = Assert.Single(events, e => e.Kind == "progress");
        Assert.Equal("running", events[events.IndexOf(progress) - 1].State);
        Assert.Equal(id, progress.Json["migrationId"]!.GetValue<string>());

        var result = events[^1];
        Assert.Equal(("result", "completed"), (result.Kind, result.State));
        Assert.Equal(400, result.Json["result"]!["totalTimeMs"]!.GetValue<double>());
        Assert.Null(result.Json["progress"]);
        Assert.Equal(result.Data, events[^2].Data); // the result carries the migration as its last state showed it
    }

    [Fact]
    public async Task Progress_becomes_an_event_at_most_every_250_ms_and_the_migration_shows_the_latest_sample()
    {
        // The Migrate stream ends without a report, as one that broke would; the source then reports
        // through ControlPlane, one acknowledged report at a time, 100 ms apart on the API's clock.
        _source.Migration = _ => [];
        var id = await RequestMigration();
        await Settle(Factory);
        for (var k = 0; k < 20; k++)
        {
            var ack = await _plane.ReportProgressAsync(new MigrationProgress
            {
                MigrationId = id, Sequence = k + 1, Phase = MigrationPhase.Running, Pass = 1 + (k / 10),
                TransferredBytes = (k + 1) * MiB, RemainingBytes = (20 - k) * MiB, TotalBytes = 21 * MiB,
                DirtyPagesPerSecond = 1000 + k, ThroughputMbps = 800,
            }, cancellationToken: Ct);
            Assert.True(ack.Known);
            Factory.Clock.Advance(TimeSpan.FromMilliseconds(100));
        }

        var sample = (await GetMigration(id))["progress"]!.AsObject();
        Assert.Equal(
            ["migrationId", "state", "pass", "remainingBytes", "transferredBytes", "dirtyPagesPerSecond", "throughputMbps", "expectedDowntimeMs", "at"],
            sample.Select(p => p.Key));
        Assert.Equal((id, "running", 2L, 1 * MiB, 20 * MiB, 1019.0), (sample["migrationId"]!.GetValue<string>(), sample["state"]!.GetValue<string>(),
            sample["pass"]!.GetValue<long>(), sample["remainingBytes"]!.GetValue<long>(), sample["transferredBytes"]!.GetValue<long>(),
            sample["dirtyPagesPerSecond"]!.GetValue<double>()));
        // 1 MiB at 800 Mbit/s: 8388608 bits / 800e6 bit/s = 10.48576 ms.
        Assert.Equal(10.48576, sample["expectedDowntimeMs"]!.GetValue<double>(), 9);

        await using var stream = await EventStreamReader.OpenAsync(Client, $"/api/v1/migrations/{id}/events");
        var running = await stream.ReadAsync(5 + 7);
        Assert.Equal(FullFlow.Take(5), running.Take(5).Select(e => e.State));
        // Samples at 0, 100, ..., 1900 ms: events at 0, 300, 600, 900, 1200, 1500 and 1800 ms.
        var progress = running.Skip(5).ToList();
        Assert.All(progress, e => Assert.Equal("progress", e.Kind));
        Assert.Equal([1, 4, 7, 10, 13, 16, 19], progress.Select(e => e.Json["transferredBytes"]!.GetValue<long>() / MiB));

        // The end arrives live on the open stream: the phases the report skipped, each once, then the result.
        var done = await _plane.ReportResultAsync(new MigrationProgress
        {
            MigrationId = id, Sequence = 21, Phase = MigrationPhase.Completed,
            Stats = new MigrationStats { Transport = Transport.Qemu, TotalTimeMs = 300, DowntimeMs = 4, BytesTransferred = 21 * MiB, Passes = 2 },
        }, cancellationToken: Ct);
        Assert.True(done.Known);
        var end = await stream.ReadToEndAsync();
        Assert.Equal(["switchingOver", "cleaningUp", "completed", "completed"], end.Select(e => e.State));
        Assert.Equal(["state", "state", "state", "result"], end.Select(e => e.Kind));
        Assert.Null((await GetMigration(id))["progress"]);

        // Kept bounded: once the migration has ended its progress events are gone; its states and result remain.
        await using var replay = await EventStreamReader.OpenAsync(Client, $"/api/v1/migrations/{id}/events");
        var replayed = await replay.ReadToEndAsync();
        Assert.DoesNotContain(replayed, e => e.Kind == "progress");
        Assert.Equal(FullFlow, replayed.Where(e => e.Kind == "state").Select(e => e.State));
    }

    [Fact]
    public async Task Last_Event_ID_resumes_after_that_event_with_no_gap_and_no_duplicate()
    {
        var id = await RequestMigration();
        await Settle(Factory);
        var path = $"/api/v1/migrations/{id}/events";
        await using var first = await EventStreamReader.OpenAsync(Client, path);
        var full = await first.ReadToEndAsync();
        Assert.Equal("result", full[^1].Kind);

        for (var k = 0; k < full.Count - 1; k++)
        {
            await using var resumed = await EventStreamReader.OpenAsync(Client, path, full[k].Id);
            Assert.Equal(Wire(full.Skip(k + 1)), Wire(await resumed.ReadToEndAsync()));
        }

        // After the result there is nothing more: 204 tells an EventSource to stop reconnecting.
        var after = await EventStreamReader.SendAsync(Client, path, full[^1].Id);
        Assert.Equal(HttpStatusCode.NoContent, after.StatusCode);
    }

    [Fact]
    public async Task A_client_that_reconnects_to_another_replica_sees_the_same_events()
    {
        var second = NewInstance();
        var secondClient = second.CreateClient();
        var id = await RequestMigration();
        var path = $"/api/v1/migrations/{id}/events";

        // Streamed live by the second replica while the first drives the migration.
        await using var live = await EventStreamReader.OpenAsync(secondClient, path);
        var queued = await live.NextAsync();
        await Settle(Factory);
        List<ServerSentEvent> onSecond = [queued!, .. await live.ReadToEndAsync()];

        // The first replica replays the same events (an ended migration's progress is not kept, so not replayed).
        await using var onFirst = await EventStreamReader.OpenAsync(Client, path);
        var full = await onFirst.ReadToEndAsync();
        Assert.Contains(onSecond, e => e.Kind == "progress");
        Assert.Equal(Wire(onSecond.Where(e => e.Kind != "progress")), Wire(full));
        Assert.Equal(FullFlow, full.Where(e => e.Kind == "state").Select(e => e.State));

        // A client that read part of the stream from the second replica resumes on the first, and the other way round.
        for (var k = 0; k < onSecond.Count - 1; k++)
        {
            var expected = Wire(onSecond.Skip(k + 1).Where(e => e.Kind != "progress")).ToList();
            await using var resumedOnFirst = await EventStreamReader.OpenAsync(Client, path, onSecond[k].Id);
            Assert.Equal(expected, Wire(await resumedOnFirst.ReadToEndAsync()));
            await using var resumedOnSecond = await EventStreamReader.OpenAsync(secondClient, path, onSecond[k].Id);
            Assert.Equal(expected, Wire(await resumedOnSecond.ReadToEndAsync()));
        }
    }

    [Fact]
    public async Task The_stream_of_all_migrations_takes_the_lists_filters()
    {
        await using var all = await EventStreamReader.OpenAsync(Client, "/api/v1/events");
        await using var second = await EventStreamReader.OpenAsync(Client, "/api/v1/events?guest=vnf-2");
        await using var completions = await EventStreamReader.OpenAsync(Client, "/api/v1/events?state=completed&host=host-b");

        var a = await RequestMigration("vnf-1");
        await Settle(Factory);
        var b = await RequestMigration("vnf-2");
        await Settle(Factory);

        var both = (await all.ReadThroughAsync("result")).Concat(await all.ReadThroughAsync("result")).ToList();
        Assert.Equal([a, b], both.Where(e => e.Kind == "result").Select(e => e.Json["id"]!.GetValue<string>()));
        Assert.Equal(FullFlow.Concat(FullFlow), both.Where(e => e.Kind == "state").Select(e => e.State));

        var onlyB = await second.ReadThroughAsync("result");
        Assert.All(onlyB, e => Assert.Equal(b, e.Json[e.Kind == "progress" ? "migrationId" : "id"]!.GetValue<string>()));
        Assert.Equal(FullFlow, onlyB.Where(e => e.Kind == "state").Select(e => e.State));

        var ends = await completions.ReadAsync(4);
        Assert.Equal([("state", a), ("result", a), ("state", b), ("result", b)], ends.Select(e => (e.Kind, e.Json["id"]!.GetValue<string>())));
        Assert.All(ends, e => Assert.Equal("completed", e.State));
    }

    [Fact]
    public async Task The_stream_of_all_migrations_starts_now_unless_asked_to_replay()
    {
        var a = await RequestMigration("vnf-1");
        await Settle(Factory);

        await using var fromNow = await EventStreamReader.OpenAsync(Client, "/api/v1/events");
        await using var everything = await EventStreamReader.OpenAsync(Client, "/api/v1/events", lastEventId: 0);
        var b = await RequestMigration("vnf-2");
        await Settle(Factory);

        var live = await fromNow.ReadThroughAsync("result");
        Assert.All(live.Where(e => e.Kind != "progress"), e => Assert.Equal(b, e.Json["id"]!.GetValue<string>()));
        Assert.Equal(FullFlow, live.Where(e => e.Kind == "state").Select(e => e.State));
        var replayed = (await everything.ReadThroughAsync("result")).Concat(await everything.ReadThroughAsync("result")).ToList();
        Assert.Equal([a, b], replayed.Where(e => e.Kind == "result").Select(e => e.Json["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_event_committed_late_gets_a_position_after_every_one_a_stream_has_seen()
    {
        var a = Guid.Parse(await RequestMigration("vnf-1"));
        var b = Guid.Parse(await RequestMigration("vnf-2"));
        await using var all = await EventStreamReader.OpenAsync(Client, "/api/v1/events");

        // A changes its migration's state in a transaction it holds open: its rows are inserted first, not yet visible.
        await using var scopeA = Factory.Services.CreateAsyncScope();
        var dbA = scopeA.ServiceProvider.GetRequiredService<FerryDbContext>();
        await using var tx = await dbA.Database.BeginTransactionAsync(Ct);
        (await dbA.Migrations.SingleAsync(m => m.Id == a, Ct)).Fail("held open by the test", Factory.Clock.GetUtcNow());
        await dbA.SaveChangesAsync(Ct);

        // B changes another migration meanwhile and commits: a writer waits for no other, and the stream sees B's
        // events (inserted after A's) before A's exist for anyone.
        await WithDb(async db =>
        {
            (await db.Migrations.SingleAsync(m => m.Id == b, Ct)).Fail("committed while A is open", Factory.Clock.GetUtcNow());
            await db.SaveChangesAsync(Ct);
            return 0;
        });
        var seenB = await all.ReadThroughAsync("result");
        Assert.All(seenB, e => Assert.Equal(b.ToString(), e.Json["id"]!.GetValue<string>()));

        // A commits: its events come after B's on the same stream, and a stream resuming after B's sees them too.
        await tx.CommitAsync(Ct);
        var seenA = await all.ReadThroughAsync("result");
        Assert.Equal([a, a], seenA.Select(e => Guid.Parse(e.Json["id"]!.GetValue<string>())));
        Assert.True(seenA[0].Id > seenB[^1].Id, $"A's first position {seenA[0].Id} is not after B's last {seenB[^1].Id}");
        await using var resumed = await EventStreamReader.OpenAsync(Client, "/api/v1/events", seenB[^1].Id);
        Assert.Equal(Wire(seenA), Wire(await resumed.ReadThroughAsync("result")));
    }

    [Fact]
    public async Task Concurrent_writers_never_give_two_events_one_position_and_every_event_gets_one()
    {
        var ids = new List<Guid>();
        for (var k = 0; k < 8; k++)
        {
            await DefineGuest($"vnf-p{k}", "host-a");
            ids.Add(Guid.Parse(await RequestMigration($"vnf-p{k}")));
        }

        await Task.WhenAll(ids.Select(id => Task.Run(() => WithDb(async db =>
        {
            (await db.Migrations.SingleAsync(m => m.Id == id, Ct)).Fail("written concurrently", Factory.Clock.GetUtcNow());
            await db.SaveChangesAsync(Ct);
            return 0;
        }), Ct)));

        await using var everything = await EventStreamReader.OpenAsync(Client, "/api/v1/events", 0);
        var results = new List<ServerSentEvent>();
        while (results.Count(e => e.Kind == "result") < ids.Count)
        {
            results.AddRange(await everything.ReadThroughAsync("result"));
        }

        var positions = await WithDb(db => db.MigrationEvents.Select(e => e.Position).ToListAsync(Ct));
        Assert.DoesNotContain(null, positions);
        Assert.Equal(positions.Count, positions.Distinct().Count());
        Assert.Equal(ids.Order(), results.Where(e => e.Kind == "result").Select(e => Guid.Parse(e.Json["id"]!.GetValue<string>())).Order());
    }

    [Fact]
    public async Task A_silent_stream_sends_a_keepalive_comment_every_15_s()
    {
        await using var stream = await EventStreamReader.OpenAsync(Client, "/api/v1/events");
        Factory.Clock.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal("keepalive", (await stream.NextAsync(comments: true))!.Comment);
    }

    [Fact]
    public async Task An_unknown_migration_is_404_and_bad_input_is_400()
    {
        var unknown = await Problem(await EventStreamReader.SendAsync(Client, $"/api/v1/migrations/{Guid.NewGuid()}/events"), HttpStatusCode.NotFound);
        Assert.Contains("was not found", unknown["detail"]!.GetValue<string>());
        await Problem(await EventStreamReader.SendAsync(Client, "/api/v1/migrations/not-an-id/events"), HttpStatusCode.BadRequest);
        await Problem(await EventStreamReader.SendAsync(Client, "/api/v1/events?state=teleporting"), HttpStatusCode.BadRequest);

        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events");
        request.Headers.TryAddWithoutValidation("Last-Event-ID", "-1");
        var bad = await Problem(await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct), HttpStatusCode.BadRequest);
        Assert.Contains("Last-Event-ID", bad["errors"]!.AsObject().Select(p => p.Key));
    }
}
