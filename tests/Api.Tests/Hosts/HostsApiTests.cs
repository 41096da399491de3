using System.Net;
using System.Net.Http.Json;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Hosts;

public sealed class HostsApiTests(PostgresServer postgres) : ApiTest(postgres)
{
    [Fact]
    public async Task A_declared_host_reads_back_with_its_capabilities()
    {
        var created = await CreateHost("host-a");

        var read = await Json(await Client.GetAsync("/api/v1/hosts/host-a", Ct));

        Assert.Equal(created["id"]!.GetValue<string>(), read["id"]!.GetValue<string>());
        Assert.Equal("ready", read["state"]!.GetValue<string>());
        Assert.Equal("10.0.0.1", read["migrationAddress"]!.GetValue<string>());
        Assert.Equal("qemu64", read["capabilities"]!["cpuModel"]!.GetValue<string>());
        Assert.Equal(2048, read["capabilities"]!["hugepages"]![0]!["free"]!.GetValue<int>());
        Assert.Null(read["lastHeartbeatAt"]);
    }

    [Fact]
    public async Task A_duplicate_host_name_is_409()
    {
        await CreateHost("host-a");
        await Problem(await Client.PostAsJsonAsync("/api/v1/hosts", new { name = "host-a", migrationAddress = "10.0.0.2" }, Ct), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_malformed_migration_address_is_refused()
    {
        var problem = await Problem(await Client.PostAsJsonAsync("/api/v1/hosts", new { name = "host-x", migrationAddress = "tcp:1.2.3.4:99,exec" }, Ct), HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]!["migrationAddress"]);
    }

    [Fact]
    public async Task Drain_and_undrain_change_the_state_and_the_list_filters_by_it()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");

        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync("/api/v1/hosts/host-a/drain", null, Ct)).StatusCode);
        var draining = await Json(await Client.GetAsync("/api/v1/hosts?state=draining", Ct));
        Assert.Equal(["host-a"], draining["items"]!.AsArray().Select(h => h!["name"]!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync("/api/v1/hosts/host-a/undrain", null, Ct)).StatusCode);
        var ready = await Json(await Client.GetAsync("/api/v1/hosts?state=ready", Ct));
        Assert.Equal(["host-a", "host-b"], ready["items"]!.AsArray().Select(h => h!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_host_with_a_guest_cannot_be_deleted_and_an_empty_one_can()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");

        await Problem(await Client.DeleteAsync("/api/v1/hosts/host-a", Ct), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/api/v1/hosts/host-b", Ct)).StatusCode);
        await Problem(await Client.GetAsync("/api/v1/hosts/host-b", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_host_in_an_active_migration_cannot_be_deleted()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        Assert.Equal(HttpStatusCode.Accepted, (await PostMigration(new { guest = "vnf-1", targetHost = "host-b" })).StatusCode);

        var problem = await Problem(await Client.DeleteAsync("/api/v1/hosts/host-b", Ct), HttpStatusCode.Conflict);

        Assert.Contains("active migration", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Hosts_page_through_in_name_order()
    {
        foreach (var n in new[] { "h-3", "h-1", "h-2" })
        {
            await CreateHost(n);
        }

        var first = await Json(await Client.GetAsync("/api/v1/hosts?pageSize=2", Ct));
        var second = await Json(await Client.GetAsync($"/api/v1/hosts?pageSize=2&pageToken={first["nextPageToken"]}", Ct));

        Assert.Equal(["h-1", "h-2"], first["items"]!.AsArray().Select(h => h!["name"]!.GetValue<string>()));
        Assert.Equal(["h-3"], second["items"]!.AsArray().Select(h => h!["name"]!.GetValue<string>()));
        Assert.Null(second["nextPageToken"]);
    }
}
