using System.Net;
using System.Net.Http.Json;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Migrations;

public sealed class MigrationsApiTests(PostgresServer postgres) : ApiTest(postgres)
{
    [Fact]
    public async Task A_migration_of_a_defined_guest_is_accepted_with_its_location_and_defaults()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");

        var response = await PostMigration(new { guest = "vnf-1", targetHost = "host-b" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await Json(response);
        var id = body["id"]!.GetValue<string>();
        Assert.Equal($"/api/v1/migrations/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("vnf-1", body["guest"]!.GetValue<string>());
        Assert.Equal("host-a", body["sourceHost"]!.GetValue<string>());
        Assert.Equal("host-b", body["targetHost"]!.GetValue<string>());
        Assert.Equal("queued", body["state"]!.GetValue<string>());
        Assert.Null(body["result"]);
        var policy = body["policy"]!.AsObject();
        Assert.Equal(10, policy["maxDowntimeMs"]!.GetValue<double>());
        Assert.Equal(2000, policy["maxTotalTimeMs"]!.GetValue<double>());
        Assert.Equal("auto", policy["transport"]!.GetValue<string>());
        Assert.False(policy["allowAutoConverge"]!.GetValue<bool>());
        Assert.Equal(
            ["allowAutoConverge", "bandwidthMbps", "completionTimeoutSecondsPerGiB", "maxDowntimeMs", "maxTotalTimeMs", "parallelStreams", "priority", "probeRatePps", "progressTimeoutSeconds", "transport"],
            policy.Select(p => p.Key).Order(StringComparer.Ordinal));

        var read = await GetMigration(id);
        Assert.Equal("queued", read["state"]!.GetValue<string>());
        var timeline = read["timeline"]!.AsArray();
        Assert.Single(timeline);
        Assert.Equal("queued", timeline[0]!["state"]!.GetValue<string>());
        Assert.NotNull(timeline[0]!["at"]);
    }

    [Fact]
    public async Task The_guest_and_target_may_be_named_by_id()
    {
        var a = await CreateHost("host-a");
        var b = await CreateHost("host-b");
        var guest = await DefineGuest("vnf-1", a["name"]!.GetValue<string>());

        var response = await PostMigration(new { guest = guest["id"]!.GetValue<string>(), targetHost = b["id"]!.GetValue<string>() });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("host-b", (await Json(response))["targetHost"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_second_migration_of_the_same_guest_is_refused_with_409()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        Assert.Equal(HttpStatusCode.Accepted, (await PostMigration(new { guest = "vnf-1" })).StatusCode);

        var problem = await Problem(await PostMigration(new { guest = "vnf-1" }), HttpStatusCode.Conflict);

        Assert.Contains("already has an active migration", problem["detail"]!.GetValue<string>());
        Assert.Equal(1, (await CountRows()).Migrations);
    }

    [Fact]
    public async Task Concurrent_requests_for_one_guest_create_exactly_one_migration()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => PostMigration(new { guest = "vnf-1" })));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(1, (await CountRows()).Migrations);
    }

    [Fact]
    public async Task A_guest_can_migrate_again_once_its_migration_ended()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        var first = await Json(await PostMigration(new { guest = "vnf-1" }));
        var cancel = await Client.PostAsync($"/api/v1/migrations/{first["id"]}/cancel", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await PostMigration(new { guest = "vnf-1" })).StatusCode);
    }

    [Fact]
    public async Task Cancelling_a_queued_migration_ends_it_at_once_and_twice_is_a_no_op()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        var id = (await Json(await PostMigration(new { guest = "vnf-1" })))["id"]!.GetValue<string>();

        var first = await Client.PostAsync($"/api/v1/migrations/{id}/cancel", null, Ct);
        var second = await Client.PostAsync($"/api/v1/migrations/{id}/cancel", null, Ct);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var read = await GetMigration(id);
        Assert.Equal("cancelled", read["state"]!.GetValue<string>());
        Assert.Equal(["queued", "cancelling", "cancelled"], read["timeline"]!.AsArray().Select(e => e!["state"]!.GetValue<string>()));
        var guest = await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct));
        Assert.Equal("host-a", guest["host"]!.GetValue<string>());
        Assert.NotEqual("migrating", guest["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cancelling_an_unknown_migration_is_404()
    {
        await Problem(await Client.PostAsync($"/api/v1/migrations/{Guid.NewGuid()}/cancel", null, Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Migrating_a_guest_onto_its_own_host_is_refused_and_writes_nothing()
    {
        await CreateHost("host-a");
        await DefineGuest("vnf-1", "host-a");

        var problem = await Problem(await PostMigration(new { guest = "vnf-1", targetHost = "host-a" }), HttpStatusCode.BadRequest);

        Assert.NotNull(problem["errors"]!["targetHost"]);
        Assert.Equal(0, (await CountRows()).Migrations);
    }

    [Fact]
    public async Task A_policy_is_stored_with_the_given_fields_and_defaults_for_the_rest()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");

        var body = await Json(await PostMigration(new { guest = "vnf-1", policy = new { maxDowntimeMs = 5, transport = "qemu", parallelStreams = 4, bandwidthMbps = 10000 } }));
        var policy = (await GetMigration(body["id"]!.GetValue<string>()))["policy"]!;

        Assert.Equal(5, policy["maxDowntimeMs"]!.GetValue<double>());
        Assert.Equal("qemu", policy["transport"]!.GetValue<string>());
        Assert.Equal(4, policy["parallelStreams"]!.GetValue<int>());
        Assert.Equal(10000, policy["bandwidthMbps"]!.GetValue<int>());
        Assert.Equal(2000, policy["maxTotalTimeMs"]!.GetValue<double>());
        Assert.Equal(50, policy["priority"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_probe_rate_is_stored_with_the_policy_for_a_guest_with_two_ports()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        var defined = await Client.PostAsJsonAsync("/api/v1/guests", new { name = "vnf-fwd", memoryMiB = 128, vcpus = 1, host = "host-a", profile = "forwarder", vhostUserPorts = new[] { "fwd-0", "fwd-1" } }, Ct);
        Assert.Equal(HttpStatusCode.Created, defined.StatusCode);

        var body = await Json(await PostMigration(new { guest = "vnf-fwd", policy = new { probeRatePps = 2000 } }));

        Assert.Equal(2000, (await GetMigration(body["id"]!.GetValue<string>()))["policy"]!["probeRatePps"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_probe_for_a_guest_without_two_ports_is_refused_and_writes_nothing()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");

        var problem = await Problem(await PostMigration(new { guest = "vnf-1", policy = new { probeRatePps = 1000 } }), HttpStatusCode.BadRequest);

        Assert.Contains("two vhost-user ports", problem["errors"]!["policy.probeRatePps"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, (await CountRows()).Migrations);
    }
}
