using System.Net;
using System.Net.Http.Json;
using Ferry.Api.Tests.Support;
using Ferry.Testing;

namespace Ferry.Api.Tests.Versions;

/// <summary>ETSI SOL 013 versioning and SOL 003 correlation on the REST v1 resources.</summary>
public sealed class ApiVersionsTests(PostgresServer postgres) : ApiTest(postgres)
{
    [Theory]
    [InlineData("/api/api_versions")]
    [InlineData("/api/v1/api_versions")]
    public async Task The_versions_resource_names_v1(string path)
    {
        var response = await Client.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"uriPrefix":"/api/v1","apiVersions":[{"version":"1.0.0","isDeprecated":false}]}""",
            await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Every_v1_response_names_its_version_and_another_major_version_is_406()
    {
        var ok = await Client.GetAsync("/api/v1/hosts", Ct);
        Assert.Equal("1.0.0", ok.Headers.GetValues("Version").Single());
        var missing = await Client.GetAsync("/api/v1/hosts/nowhere", Ct);
        Assert.Equal("1.0.0", missing.Headers.GetValues("Version").Single());

        var same = new HttpRequestMessage(HttpMethod.Get, "/api/v1/hosts");
        same.Headers.Add("Version", "1.0.0");
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(same, Ct)).StatusCode);

        var other = new HttpRequestMessage(HttpMethod.Get, "/api/v1/hosts");
        other.Headers.Add("Version", "2.0.0");
        var problem = await Problem(await Client.SendAsync(other, Ct), HttpStatusCode.NotAcceptable);
        Assert.Contains("2.0.0", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_guests_vnf_ids_show_on_it_and_its_migrations_which_filter_by_them()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        var defined = await Client.PostAsJsonAsync("/api/v1/guests",
            new { name = "vnf-1", memoryMiB = 512, vcpus = 1, host = "host-a", vnfInstanceId = "vnf-inst-1", vnfcInstanceId = "vnfc-1" }, Ct);
        Assert.Equal(HttpStatusCode.Created, defined.StatusCode);
        var guest = await Json(defined);
        Assert.Equal("vnf-inst-1", guest["vnfInstanceId"]!.GetValue<string>());
        Assert.Equal("vnfc-1", guest["vnfcInstanceId"]!.GetValue<string>());
        await DefineGuest("vnf-2", "host-a");

        var response = await PostMigration(new { guest = "vnf-1", targetHost = "host-b" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var migration = await Json(response);
        var id = migration["id"]!.GetValue<string>();
        Assert.Equal("vnf-inst-1", migration["vnfInstanceId"]!.GetValue<string>());
        Assert.Equal("vnfc-1", migration["vnfcInstanceId"]!.GetValue<string>());
        Assert.Equal("STARTING", migration["operationState"]!.GetValue<string>());
        Assert.Equal($"/api/v1/migrations/{id}", migration["_links"]!["self"]!["href"]!.GetValue<string>());
        Assert.Equal($"/api/v1/migrations/{id}/cancel", migration["_links"]!["cancel"]!["href"]!.GetValue<string>());
        Assert.Equal($"/api/v1/guests/{guest["id"]}", migration["_links"]!["guest"]!["href"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await PostMigration(new { guest = "vnf-2", targetHost = "host-b" })).StatusCode);

        var mine = await Json(await Client.GetAsync("/api/v1/migrations?vnfInstanceId=vnf-inst-1", Ct));
        Assert.Equal([id], mine["items"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()));
        Assert.Empty((await Json(await Client.GetAsync("/api/v1/migrations?vnfInstanceId=other", Ct)))["items"]!.AsArray());

        var cancelled = await Json(await Client.PostAsync($"/api/v1/migrations/{id}/cancel", null, Ct));
        Assert.Equal("ROLLED_BACK", cancelled["operationState"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_vnf_id_longer_than_255_characters_is_refused()
    {
        await CreateHost("host-a");
        var response = await Client.PostAsJsonAsync("/api/v1/guests",
            new { name = "vnf-1", memoryMiB = 512, vcpus = 1, host = "host-a", vnfInstanceId = new string('x', 256) }, Ct);
        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]!["vnfInstanceId"]);
    }

    [Fact]
    public async Task A_list_with_a_next_page_links_to_it_keeping_its_filters()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        var first = await Client.GetAsync("/api/v1/hosts?pageSize=1", Ct);
        var token = (await Json(first))["nextPageToken"]!.GetValue<string>();
        Assert.Equal($"</api/v1/hosts?pageSize=1&pageToken={token}>; rel=\"next\"", first.Headers.GetValues("Link").Single());

        var last = await Client.GetAsync($"/api/v1/hosts?pageSize=1&pageToken={token}", Ct);
        Assert.Null((await Json(last))["nextPageToken"]);
        Assert.False(last.Headers.Contains("Link"));
    }
}
