using System.Net;
using System.Net.Http.Json;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Guests;

public sealed class GuestsApiTests(PostgresServer postgres) : ApiTest(postgres)
{
    [Fact]
    public async Task A_defined_guest_reads_back_on_its_host()
    {
        await CreateHost("host-a");
        var response = await Client.PostAsJsonAsync("/api/v1/guests",
            new { name = "vnf-1", memoryMiB = 1024, vcpus = 2, host = "host-a", hugepageSizeKiB = 2048, vhostUserPorts = new[] { "vhu-1", "vhu-2" } }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var guest = await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct));

        Assert.Equal(response.Headers.Location!.OriginalString, $"/api/v1/guests/{guest["id"]}");
        Assert.Equal("host-a", guest["host"]!.GetValue<string>());
        Assert.Equal(1024, guest["memoryMiB"]!.GetValue<int>());
        Assert.Equal(2, guest["vcpus"]!.GetValue<int>());
        Assert.Equal("defined", guest["state"]!.GetValue<string>());
        Assert.Equal(["vhu-1", "vhu-2"], guest["vhostUserPorts"]!.AsArray().Select(p => p!.GetValue<string>()));
    }

    [Fact]
    public async Task A_guest_on_an_unknown_host_is_404_and_not_written()
    {
        await Problem(await Client.PostAsJsonAsync("/api/v1/guests", new { name = "vnf-1", memoryMiB = 1024, vcpus = 2, host = "nowhere" }, Ct), HttpStatusCode.NotFound);
        Assert.Equal(0, (await CountRows()).Guests);
    }

    [Fact]
    public async Task A_port_name_longer_than_an_interface_name_is_400_and_not_written()
    {
        await CreateHost("host-a");

        var problem = await Problem(await Client.PostAsJsonAsync("/api/v1/guests",
            new { name = "vnf-1", memoryMiB = 1024, vcpus = 2, host = "host-a", vhostUserPorts = new[] { "vhu-1", "a-sixteen-chars-" } }, Ct), HttpStatusCode.BadRequest);

        Assert.Contains("at most 15 characters", problem["errors"]!["vhostUserPorts"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, (await CountRows()).Guests);
    }

    [Fact]
    public async Task A_port_another_guest_has_is_409_and_not_written()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        Assert.Equal(HttpStatusCode.Created, (await Client.PostAsJsonAsync("/api/v1/guests",
            new { name = "vnf-1", memoryMiB = 1024, vcpus = 2, host = "host-a", vhostUserPorts = new[] { "vhu-1", "vhu-2" } }, Ct)).StatusCode);

        // On another host too: the guest may migrate there.
        var problem = await Problem(await Client.PostAsJsonAsync("/api/v1/guests",
            new { name = "vnf-2", memoryMiB = 1024, vcpus = 2, host = "host-b", vhostUserPorts = new[] { "vhu-3", "vhu-2" } }, Ct), HttpStatusCode.Conflict);

        Assert.Contains("'vnf-1'", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, (await CountRows()).Guests);
    }

    [Fact]
    public async Task Guests_are_listed_by_host()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        await DefineGuest("vnf-2", "host-b");

        var list = await Json(await Client.GetAsync("/api/v1/guests?host=host-b", Ct));

        Assert.Equal(["vnf-2"], list["items"]!.AsArray().Select(g => g!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_migrating_guest_cannot_be_deleted_and_an_idle_one_can()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        await DefineGuest("vnf-2", "host-a");
        await PostMigration(new { guest = "vnf-1" });

        await Problem(await Client.DeleteAsync("/api/v1/guests/vnf-1", Ct), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/api/v1/guests/vnf-2", Ct)).StatusCode);
        Assert.Equal(1, (await CountRows()).Guests);
    }
}
