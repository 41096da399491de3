using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Ferry.Agent;
using Ferry.Deploy.Tests.Configuration;
using Ferry.Deploy.Tests.Support;
using Ferry.ServiceDefaults.Trust;
using Ferry.Testing;

namespace Ferry.Deploy.Tests.Compose;

/// <summary>
/// docker-compose.yml (issue 14, section 4): PostgreSQL and the API with both ports published and keys
/// configured, its secrets the files scripts/credentials.sh makes, a healthcheck on /readyz that works in
/// the API's image, and a comment on how agents join. No Docker here: the file is read as compose reads
/// it, and the API runs as a process with the environment and files its container would get.
/// </summary>
public sealed partial class ComposeTests(PostgresServer postgres) : IClassFixture<PostgresServer>, IDisposable
{
    private const string SecretsDirectory = "/run/secrets";

    private readonly string _project = Directory.CreateTempSubdirectory("ferry-compose").FullName;

    /// <summary>The admin key and the shell's environment for <c>docker compose up</c>, as the file's header makes them.</summary>
    private readonly string _apiKey = "ferry-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private Dictionary<string, string> Shell => new(StringComparer.Ordinal)
    {
        ["FERRY_API_KEY_SHA256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_apiKey))),
    };

    public void Dispose()
    {
        try
        {
            Directory.Delete(_project, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public void PostgreSQL_and_the_API_run_with_REST_and_the_agents_port_published_where_the_image_listens()
    {
        var compose = ComposeFile.Load(Shell);
        var api = compose.Service("api");
        var env = ApiEnvironment(compose);

        Assert.StartsWith("postgres:", (string?)compose.Service("postgres")["image"], StringComparison.Ordinal);
        Assert.Equal("service_healthy", (string?)api["depends_on"]!["postgres"]!["condition"]);
        Assert.Equal("src/Api/Dockerfile", (string?)api["build"]!["dockerfile"]);
        var published = ComposeFile.PublishedPorts(api);
        var rest = new Uri(env["Kestrel__Endpoints__Http__Url"]);
        var grpc = new Uri(env["Kestrel__Endpoints__Grpc__Url"]);
        Assert.True(published.ContainsKey(rest.Port), $"REST listens on {rest.Port} in the container, which is not published");
        Assert.True(published.ContainsKey(grpc.Port), $"the agents' gRPC listens on {grpc.Port} in the container, which is not published");
        Assert.Equal("https", grpc.Scheme);
    }

    [Fact]
    public void The_APIs_environment_binds_strictly_to_its_options_with_the_keys_hash_and_certificates_from_its_secrets()
    {
        var compose = ComposeFile.Load(Shell);
        var env = ApiEnvironment(compose);

        var problems = FerrySettings.Problems(env, FerrySettings.Api, FerrySettings.ApiOtherKeys, "ConnectionStrings__Ferry", "Kestrel__Endpoints__Http__Url", "Kestrel__Endpoints__Grpc__Url");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal("sha256:" + Shell["FERRY_API_KEY_SHA256"], env["Ferry__Security__ApiKeys__0__Key"]);
        Assert.Equal("admin", env["Ferry__Security__ApiKeys__0__Scopes__0"]);

        var granted = compose.Service("api")["secrets"]!.AsArray().Select(s => s is System.Text.Json.Nodes.JsonObject o ? (string)o["source"]! : (string)s!).ToHashSet();
        var defined = compose.Model["secrets"]!.AsObject();
        foreach (var (key, value) in env.Where(kv => kv.Value.StartsWith(SecretsDirectory + "/", StringComparison.Ordinal)))
        {
            var secret = value[(SecretsDirectory.Length + 1)..];
            Assert.True(granted.Contains(secret), $"{key} names the secret {secret}, which the api service is not given");
            Assert.True(defined[secret]?["file"] is not null, $"{key} names the secret {secret}, which the file does not define");
        }

        Assert.All(granted, s => Assert.True(defined.ContainsKey(s), $"the api service is given the secret {s}, which the file does not define"));
    }

    [Fact]
    public void Without_the_keys_hash_compose_refuses_to_start_and_says_which_variable()
    {
        var refused = Assert.Throws<InvalidOperationException>(() => ComposeFile.Load(new Dictionary<string, string>()));

        Assert.Contains("FERRY_API_KEY_SHA256", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_secret_files_are_the_ones_credentials_sh_makes_and_they_name_the_API()
    {
        var compose = ComposeFile.Load(Shell);
        await MakeCredentialsAsync();

        var env = ContainerEnvironment(compose);

        var tls = FerrySettings.Bind<ClusterTlsOptions>(env, ClusterTlsOptions.Section);
        Assert.True(tls.IsConfigured, "the API's container configures no cluster certificates");
        Assert.Null(tls.Problem(ClusterPeer.Api));
    }

    [Fact]
    public async Task The_API_starts_with_its_containers_environment_and_its_healthcheck_sees_it_ready()
    {
        var compose = ComposeFile.Load(Shell);
        await MakeCredentialsAsync();
        var env = ContainerEnvironment(compose);
        // The compose network's "postgres" is this test's server.
        Assert.StartsWith("Host=postgres;", env["ConnectionStrings__Ferry"], StringComparison.Ordinal);
        env["ConnectionStrings__Ferry"] = await postgres.CreateDatabaseAsync();

        await using var api = ApiProcess.Start(env);

        Assert.True(await api.ReadyAsync(TestContext.Current.CancellationToken), $"the API did not become ready:\n{api.Process.Output}");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/hosts") { Headers = { { "X-Api-Key", _apiKey } } };
        using var response = await api.Http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"the admin key was refused: {(int)response.StatusCode}");

        // The healthcheck as the container runs it, its port 8080 being this API's port here.
        var healthcheck = compose.Service("api")["healthcheck"]!["test"]!.AsArray().Select(a => (string)a!).ToList();
        Assert.Equal("CMD", healthcheck[0]);
        Assert.Contains(healthcheck, a => a.Contains("/readyz", StringComparison.Ordinal));
        var (healthy, output) = await RunAsync(healthcheck.Skip(1).Select(a => a.Replace("/8080", $"/{api.HttpPort}", StringComparison.Ordinal)));
        Assert.True(healthy == 0, $"the healthcheck failed on a ready API ({healthy}): {output}");

        // And it can fail: nothing listens on the agents' port for plain HTTP/1 with a 200.
        var (closed, _) = await RunAsync(healthcheck.Skip(1).Select(a => a.Replace("/8080", $"/{FreePorts.Next()}", StringComparison.Ordinal)));
        Assert.NotEqual(0, closed);
    }

    [Fact]
    public void The_healthcheck_needs_no_tool_the_aspnet_image_lacks()
    {
        var test = string.Join(' ', ComposeFile.Load(Shell).Service("api")["healthcheck"]!["test"]!.AsArray().Select(a => (string)a!));

        // mcr.microsoft.com/dotnet/aspnet ships neither curl nor wget since .NET 5 (dotnet/dotnet-docker#2379).
        Assert.DoesNotMatch(@"\b(curl|wget)\b", test);
    }

    [Fact]
    public void The_comment_on_agents_gives_settings_the_agent_takes_and_the_published_gRPC_port()
    {
        var compose = ComposeFile.Load(Shell);
        var settings = compose.Comments.SelectMany(c => Setting().Matches(c)).ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value
            .Replace("<this machine's address>", "192.0.2.1", StringComparison.Ordinal).Replace("ADDRESS", "192.0.2.11", StringComparison.Ordinal).Replace("HOST", "host-a", StringComparison.Ordinal));

        Assert.NotEmpty(settings);
        var problems = FerrySettings.Problems(settings, FerrySettings.Agent, FerrySettings.AgentOtherKeys, Chart.PodEnvironmentTests.AgentRequired);
        Assert.True(problems.Count == 0, string.Join("\n", problems));

        var agent = FerrySettings.Bind<AgentOptions>(settings, AgentOptions.Section);
        Assert.Null(agent.Problem());
        var grpcInContainer = new Uri(ApiEnvironment(compose)["Kestrel__Endpoints__Grpc__Url"]).Port;
        Assert.Equal(ComposeFile.PublishedPorts(compose.Service("api"))[grpcInContainer], new Uri(agent.ApiUrl).Port);
    }

    /// <summary>The API container's environment: the image's ENV, then compose's over it.</summary>
    private static Dictionary<string, string> ApiEnvironment(ComposeFile compose)
    {
        var env = new Dictionary<string, string>(Dockerfile.Environment((string)compose.Service("api")["build"]!["dockerfile"]!), StringComparer.Ordinal);
        foreach (var (key, value) in ComposeFile.Environment(compose.Service("api")))
        {
            env[key] = value;
        }

        return env;
    }

    /// <summary><see cref="ApiEnvironment"/> with /run/secrets/NAME rewritten to the file compose mounts there (relative to the project directory).</summary>
    private Dictionary<string, string> ContainerEnvironment(ComposeFile compose)
    {
        var env = ApiEnvironment(compose);
        foreach (var (key, value) in env.Where(kv => kv.Value.StartsWith(SecretsDirectory + "/", StringComparison.Ordinal)).ToList())
        {
            var file = Path.GetFullPath(Path.Combine(_project, (string)compose.Model["secrets"]![value[(SecretsDirectory.Length + 1)..]]!["file"]!));
            Assert.True(File.Exists(file), $"{key}: the secret's file {file} does not exist after scripts/credentials.sh");
            env[key] = file;
        }

        return env;
    }

    /// <summary>The header's first step, in the project directory: <c>scripts/credentials.sh .ferry ADDRESS host-a=ADDRESS</c>.</summary>
    private async Task MakeCredentialsAsync()
    {
        var (exit, output) = await RunAsync([Path.Combine(Repository.Root, "scripts", "credentials.sh"), ".ferry", "127.0.0.1", "host-a=127.0.0.2"], _project);
        Assert.True(exit == 0, $"scripts/credentials.sh failed ({exit}): {output}");
    }

    private static async Task<(int Exit, string Output)> RunAsync(IEnumerable<string> argv, string? workingDirectory = null)
    {
        var args = argv.ToList();
        var run = await Programs.RunAsync(args[0], args.Skip(1), workingDirectory: workingDirectory);
        return (run.ExitCode, run.Output + run.Error);
    }

    [GeneratedRegex(@"(?<key>(Agent|Ferry|Ovs|Qemu|Probe)__[A-Za-z0-9_]+)=(?<value>(?:[^\s`<]|<[^>]*>)+)")]
    private static partial Regex Setting();
}
