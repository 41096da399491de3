using System.Net;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Migrations;

public sealed class IdempotencyTests(PostgresServer postgres) : ApiTest(postgres)
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        await DefineGuest("vnf-2", "host-a");
    }

    [Fact]
    public async Task A_replay_with_the_same_key_and_body_gets_the_same_response_and_creates_nothing()
    {
        var first = await PostMigration(new { guest = "vnf-1", targetHost = "host-b" }, "key-1");
        var firstBody = await first.Content.ReadAsStringAsync(Ct);

        var replay = await PostMigration(new { targetHost = "host-b", guest = "vnf-1" }, "key-1");

        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(first.Headers.Location, replay.Headers.Location);
        Assert.Equal(firstBody, await replay.Content.ReadAsStringAsync(Ct));
        Assert.Equal(1, (await CountRows()).Migrations);
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_refused_with_422()
    {
        await PostMigration(new { guest = "vnf-1" }, "key-1");

        var problem = await Problem(await PostMigration(new { guest = "vnf-2" }, "key-1"), HttpStatusCode.UnprocessableEntity);

        Assert.Contains("key-1", problem["detail"]!.GetValue<string>());
        Assert.Equal(1, (await CountRows()).Migrations);
    }

    [Fact]
    public async Task Concurrent_replays_of_one_key_create_one_migration_and_agree_on_it()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => PostMigration(new { guest = "vnf-1" }, "key-race")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Single(responses.Select(r => r.Headers.Location!.OriginalString).Distinct());
        Assert.Equal(1, (await CountRows()).Migrations);
    }

    [Fact]
    public async Task Without_a_key_a_repeat_is_a_new_request()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PostMigration(new { guest = "vnf-1" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PostMigration(new { guest = "vnf-1" })).StatusCode);
    }

    [Fact]
    public async Task A_key_that_is_not_printable_ascii_is_refused()
    {
        var problem = await Problem(await PostMigration(new { guest = "vnf-1" }, new string('k', 256)), HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]!["Idempotency-Key"]);
        Assert.Equal(0, (await CountRows()).Migrations);
    }

    [Fact]
    public async Task A_key_is_forgotten_after_its_lifetime_and_its_record_deleted()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PostMigration(new { guest = "vnf-1" }, "key-1")).StatusCode);

        Factory.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1));
        var later = await PostMigration(new { guest = "vnf-2" }, "key-1");

        Assert.Equal(HttpStatusCode.Accepted, later.StatusCode);
        var rows = await CountRows();
        Assert.Equal(2, rows.Migrations);
        Assert.Equal(1, rows.Keys);
    }

    [Fact]
    public async Task Within_its_lifetime_a_key_still_replays()
    {
        var first = await PostMigration(new { guest = "vnf-1" }, "key-1");
        Factory.Clock.Advance(TimeSpan.FromHours(23));

        var replay = await PostMigration(new { guest = "vnf-1" }, "key-1");

        Assert.Equal(first.Headers.Location, replay.Headers.Location);
        Assert.Equal(1, (await CountRows()).Migrations);
    }
}
