using System.Net;
using System.Net.Http.Json;
using System.Text;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Http;

/// <summary>Every refused request gets a clear problem+json answer and leaves the database as it was.</summary>
public sealed class BadInputTests(PostgresServer postgres) : ApiTest(postgres)
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
    }

    [Fact]
    public async Task A_10_MB_body_is_refused_with_413_and_nothing_is_written()
    {
        var before = await CountRows();
        var huge = "{\"guest\":\"vnf-1\",\"pad\":\"" + new string('x', 10 * 1024 * 1024) + "\"}";

        var response = await Client.PostAsync("/api/v1/migrations", new StringContent(huge, Encoding.UTF8, "application/json"), Ct);

        await Problem(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(before, await CountRows());
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a,b")]
    [InlineData("exec:rm")]
    [InlineData("vnf/../../x")]
    [InlineData("UPPER")]
    [InlineData("nul\u0000byte")]
    public async Task Hostile_names_are_refused_with_400_naming_the_field(string name)
    {
        var before = await CountRows();

        var guest = await Problem(await Client.PostAsJsonAsync("/api/v1/guests", new { name, memoryMiB = 512, vcpus = 1, host = "host-a" }, Ct), HttpStatusCode.BadRequest);
        var host = await Problem(await Client.PostAsJsonAsync("/api/v1/hosts", new { name, migrationAddress = "10.0.0.9" }, Ct), HttpStatusCode.BadRequest);
        var migration = await Problem(await PostMigration(new { guest = name }), HttpStatusCode.BadRequest);
        var target = await Problem(await PostMigration(new { guest = "vnf-1", targetHost = name }), HttpStatusCode.BadRequest);

        Assert.NotNull(guest["errors"]!["name"]);
        Assert.NotNull(host["errors"]!["name"]);
        Assert.NotNull(migration["errors"]!["guest"]);
        Assert.NotNull(target["errors"]!["targetHost"]);
        Assert.Equal(before, await CountRows());
    }

    [Fact]
    public async Task A_hostile_name_in_a_path_is_refused_not_looked_up()
    {
        await Problem(await Client.GetAsync("/api/v1/guests/a,b", Ct), HttpStatusCode.BadRequest);
        await Problem(await Client.GetAsync("/api/v1/hosts/..%2Fetc", Ct), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Unknown_ids_and_names_are_404()
    {
        await Problem(await Client.GetAsync($"/api/v1/migrations/{Guid.NewGuid()}", Ct), HttpStatusCode.NotFound);
        await Problem(await Client.GetAsync($"/api/v1/hosts/{Guid.NewGuid()}", Ct), HttpStatusCode.NotFound);
        await Problem(await Client.GetAsync("/api/v1/guests/no-such-guest", Ct), HttpStatusCode.NotFound);
        await Problem(await Client.DeleteAsync($"/api/v1/guests/{Guid.NewGuid()}", Ct), HttpStatusCode.NotFound);
        var before = await CountRows();
        await Problem(await PostMigration(new { guest = "no-such-guest" }), HttpStatusCode.NotFound);
        await Problem(await PostMigration(new { guest = "vnf-1", targetHost = Guid.NewGuid().ToString() }), HttpStatusCode.NotFound);
        Assert.Equal(before, await CountRows());
    }

    [Fact]
    public async Task A_migration_id_that_is_not_an_id_is_400()
    {
        var problem = await Problem(await Client.GetAsync("/api/v1/migrations/not-an-id", Ct), HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]!["id"]);
    }

    [Fact]
    public async Task Out_of_range_policy_fields_are_each_reported()
    {
        var before = await CountRows();

        var problem = await Problem(await PostMigration(new { guest = "vnf-1", policy = new { maxDowntimeMs = -1, parallelStreams = 0, priority = 1000 } }), HttpStatusCode.BadRequest);

        var errors = problem["errors"]!.AsObject();
        Assert.Equal(["policy.maxDowntimeMs", "policy.parallelStreams", "policy.priority"], errors.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Equal(before, await CountRows());
    }

    [Theory]
    [InlineData("{\"guest\": \"vnf-1\", \"policy\": {\"transport\": \"carrier-pigeon\"}}", "policy.transport")]
    [InlineData("{\"guest\": \"vnf-1\", \"policy\": {\"maxDowntime\": 5}}", "policy.maxDowntime")]
    [InlineData("{\"guest\": 42}", "guest")]
    [InlineData("{\"guest\": \"vnf-1\"", "body")]
    [InlineData("not json", "body")]
    public async Task Unreadable_bodies_are_400_with_the_offending_field(string body, string field)
    {
        var before = await CountRows();

        var response = await Client.PostAsync("/api/v1/migrations", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), $"errors: {problem["errors"]}");
        Assert.Equal(before, await CountRows());
    }

    [Fact]
    public async Task A_guest_without_memory_or_vcpus_is_refused_field_by_field()
    {
        var problem = await Problem(await Client.PostAsJsonAsync("/api/v1/guests", new { name = "vnf-9", host = "host-a", memoryMiB = 0 }, Ct), HttpStatusCode.BadRequest);
        Assert.Equal(["memoryMiB", "vcpus"], problem["errors"]!.AsObject().Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Paging_arguments_out_of_range_are_refused()
    {
        await Problem(await Client.GetAsync("/api/v1/migrations?pageSize=0", Ct), HttpStatusCode.BadRequest);
        await Problem(await Client.GetAsync("/api/v1/migrations?pageSize=100000", Ct), HttpStatusCode.BadRequest);
        await Problem(await Client.GetAsync("/api/v1/migrations?pageToken=garbage!", Ct), HttpStatusCode.BadRequest);
        await Problem(await Client.GetAsync("/api/v1/migrations?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", Ct), HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("/api/v1/hosts?pageSize=abc", "pageSize")]
    [InlineData("/api/v1/guests?pageSize=1.5", "pageSize")]
    [InlineData("/api/v1/migrations?from=yesterday", "from")]
    [InlineData("/api/v1/migrations?to=2026-13-01", "to")]
    [InlineData("/api/v1/events?from=soon", "from")]
    [InlineData("/api/v1/reports/sla?to=soon", "to")]
    [InlineData("/api/v1/subscriptions?pageSize=x", "pageSize")]
    public async Task A_query_value_of_the_wrong_type_is_400_naming_the_parameter_as_the_query_spells_it(string url, string parameter)
    {
        var problem = await Problem(await Client.GetAsync(url, Ct), HttpStatusCode.BadRequest);

        var error = problem["errors"]![parameter]!.AsArray().Single()!.GetValue<string>();
        Assert.StartsWith("must be a ", error, StringComparison.Ordinal);
    }
}
