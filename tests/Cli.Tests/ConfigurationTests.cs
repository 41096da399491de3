using Ferry.Cli.Tests.Support;
using Ferry.Testing;

namespace Ferry.Cli.Tests;

/// <summary>Where ferry finds the API and its key, and the exit codes of a wrong command line, an API it cannot reach or one that refuses it.</summary>
public sealed class ConfigurationTests(PostgresServer postgres) : CliTest(postgres)
{
    [Fact]
    public async Task The_key_make_run_wrote_is_found_from_a_directory_below_it()
    {
        // make run writes .ferry/api-key at the checkout's root; an operator runs ferry anywhere inside it.
        Directory.CreateDirectory(Path.Combine(WorkingDirectory, ".ferry"));
        await File.WriteAllTextAsync(Path.Combine(WorkingDirectory, ".ferry", "api-key"), Api.AdminKey + "\n", Ct);
        var below = Directory.CreateDirectory(Path.Combine(WorkingDirectory, "src", "Cli")).FullName;

        var ferry = Track(FerryProcess.Start("dotnet", [FerryProcess.Dll, "hosts", "--api", Api.Url], new Dictionary<string, string>(), below));
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("host-a", result.Output);
    }

    [Fact]
    public async Task FERRY_API_KEY_FILE_names_the_key_and_api_overrides_FERRY_API()
    {
        var file = Path.Combine(WorkingDirectory, "key");
        await File.WriteAllTextAsync(file, Api.AdminKey, Ct);

        var ferry = StartFerryWith(new Dictionary<string, string> { ["FERRY_API"] = "http://127.0.0.1:1", ["FERRY_API_KEY_FILE"] = file },
            "guests", "--api", Api.Url);
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("vnf-1", result.Output);
    }

    [Fact]
    public async Task No_key_at_all_exits_3_and_says_where_keys_come_from()
    {
        var result = await StartFerryWith(new Dictionary<string, string> { ["FERRY_API"] = Api.Url }, "hosts").ExitAsync(Ct);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("wants an API key and none was found: set FERRY_API_KEY", result.Error);
    }

    [Fact]
    public async Task A_wrong_key_exits_3_naming_where_it_came_from_but_not_the_key()
    {
        var result = await StartFerryWith(new Dictionary<string, string> { ["FERRY_API"] = Api.Url, ["FERRY_API_KEY"] = "not-the-key" }, "hosts").ExitAsync(Ct);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("refused the API key from FERRY_API_KEY (401)", result.Error);
        Assert.DoesNotContain("not-the-key", result.Error + result.Output);
    }

    [Fact]
    public async Task An_API_nobody_listens_on_exits_3()
    {
        var result = await StartFerryWith(new Dictionary<string, string> { ["FERRY_API"] = "http://127.0.0.1:1", ["FERRY_API_KEY"] = "k" }, "migrations").ExitAsync(Ct);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.StartsWith("ferry: cannot reach the Ferry API at http://127.0.0.1:1/", result.Error);
    }

    [Theory]
    [InlineData("no-such-command")]
    [InlineData("migrate")]
    [InlineData("migrate", "vnf-1", "--transport", "rdma")]
    [InlineData("migrate", "vnf-1", "--max-downtime-ms", "-1")]
    [InlineData("migrate", "vnf-1", "--bandwidth-mbps", "lots")]
    [InlineData("hosts", "--output", "yaml")]
    [InlineData("hosts", "--api", "ftp://example")]
    [InlineData("migrations", "--limit", "0")]
    [InlineData("watch", "--feed", "carrier-pigeon")]
    public async Task A_wrong_command_line_exits_2_before_any_request(params string[] args)
    {
        var result = await StartFerryWith(new Dictionary<string, string> { ["FERRY_API"] = "http://127.0.0.1:1" }, args).ExitAsync(Ct);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("ferry: ", result.Error);
        Assert.DoesNotContain("cannot reach", result.Error);
    }

    [Fact]
    public async Task A_FERRY_API_that_is_no_URL_exits_2()
    {
        var result = await StartFerryWith(new Dictionary<string, string> { ["FERRY_API"] = "localhost:5080" }, "hosts").ExitAsync(Ct);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("FERRY_API 'localhost:5080' is not an http(s) URL", result.Error);
    }

    [Fact]
    public async Task Scripts_ferry_runs_the_CLI_from_the_checkout()
    {
        var ferry = StartFerryWithScript("hosts", "-o", "json");
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("\"name\": \"host-a\"", result.Output);
    }

    private FerryProcess StartFerryWithScript(params string[] args) =>
        Track(FerryProcess.Start(Path.Combine(Repository.Root, "scripts", "ferry"), args, Environment(), WorkingDirectory));
}
