using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ferry.Testing;

namespace Ferry.EndToEnd.Tests;

/// <summary>
/// Ferry as it runs for real, on one machine: PostgreSQL, the API listening on a bridge, and two
/// agents (host-a, host-b), each in its own network namespace, so migration traffic crosses a
/// veth pair and the bridge. Built by the repository's own scripts (hosts.sh, postgres.sh).
/// </summary>
public sealed class TwoHostCluster : IAsyncLifetime
{
    public const string Prefix = "fe2e";
    public const string Subnet = "10.78.0";
    private readonly List<ServiceProcess> _services = [];
    private string _runRoot = "";
    private string _pgData = "";
    private int _pgPort;
    private long? _hugepagesBefore;
    private long _hugepagesAfter;

    // The scripts' default subnet is make run's; the tests use their own beside it.
    private static readonly Dictionary<string, string> ScriptEnvironment = new() { ["FERRY_SUBNET"] = Subnet };

    public HttpClient Api { get; } = new() { BaseAddress = new Uri($"http://{Subnet}.1:5180"), Timeout = TimeSpan.FromMinutes(5) };

    public string RunRoot => _runRoot;

    /// <summary>The port of the cluster's PostgreSQL on 127.0.0.1.</summary>
    public int PostgresPort => _pgPort;

    /// <summary>The network namespaces of host-a and host-b.</summary>
    public static IReadOnlyList<string> Namespaces { get; } = [$"{Prefix}-a", $"{Prefix}-b"];

    /// <summary>
    /// The test-only hold file the API (<c>Ferry:Testing:HoldFile</c>) and the agents (<c>Ferry:Testing:HoldFile</c> of theirs)
    /// read: while it names a phase, the part that runs that phase waits at its start and writes <c>HoldFile.held</c>.
    /// Absent, nothing holds.
    /// </summary>
    public string HoldFile => _runRoot + "-hold";

    /// <summary>The API's agent-facing (mutual TLS) endpoint.</summary>
    public Uri ControlPlaneUrl { get; } = new($"https://{Subnet}.1:5181");

    /// <summary>What scripts/credentials.sh made, as make run does: the API key and the cluster's certificates (pki/).</summary>
    public string Credentials => _runRoot + "-credentials";

    /// <summary>The PEM files of a certificate the script issued: "api", "host-a", "host-b".</summary>
    public (string Certificate, string Key) CertificateFiles(string name) =>
        (Path.Combine(Credentials, "pki", name + ".crt"), Path.Combine(Credentials, "pki", name + ".key"));

    /// <summary>Why the agents cannot run forwarding guests, when scripts/forwarding-guest/build.sh could not build the image here.</summary>
    public string? ForwardingImageUnavailable { get; private set; }

    private string? _forwardingImage;
    private string _apiKeyHash = "";

    public string Diagnostics => string.Join("\n", _services.Select(s => $"--- {s.Name} ---\n{Tail(s.Output, 60)}"));

    public async ValueTask InitializeAsync()
    {
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException("the end-to-end tests need root: they create network namespaces");
        }

        _runRoot = Path.Combine(Path.GetTempPath(), $"ferry-e2e-{Environment.ProcessId}");
        _pgData = _runRoot + "-pg";
        Directory.CreateDirectory(_runRoot);
        await Scripts.RunAsync("hosts.sh", ScriptEnvironment, "down", Prefix);
        await Scripts.RunAsync("hosts.sh", ScriptEnvironment, "up", Prefix);

        // The API key and the cluster's certificates, made by the same script as make run's.
        await Scripts.RunAsync("credentials.sh", ScriptEnvironment, Credentials, $"{Subnet}.1", $"host-a={Subnet}.2", $"host-b={Subnet}.3");
        var key = (await File.ReadAllTextAsync(Path.Combine(Credentials, "api-key"))).Trim();
        Api.DefaultRequestHeaders.Add("X-Api-Key", key);
        _apiKeyHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
        // A free port, not one derived from the pid: 5400 + pid % 500 met make run's 5433 for one pid in 500.
        _pgPort = FreePorts.Next();
        await Scripts.RunAsync("postgres.sh", ScriptEnvironment, "start", _pgData, _pgPort.ToString(CultureInfo.InvariantCulture));
        await StartApiAsync();

        // Each agent runs its own OVS-DPDK switch, and DPDK takes its memory from hugepages.
        // What to give back when disposed (hugepages.sh never lowers the reservation).
        _hugepagesBefore = Hugepages.Reserved;
        await Scripts.RunAsync("hugepages.sh", ScriptEnvironment);
        _hugepagesAfter = Hugepages.Reserved;
        await BuildForwardingImageAsync();
        StartAgent("host-a");
        StartAgent("host-b");
        await WaitUntilBothHostsReady();
    }

    /// <summary>SIGKILL: the agent gets no chance to stop its QEMUs or its switch, as in a crash or an OOM kill.</summary>
    public async Task KillAgentAsync(string host)
    {
        var agent = _services.Single(s => s.Name == host);
        _services.Remove(agent);
        agent.Kill();
        await agent.DisposeAsync();
    }

    /// <summary>Starts the agent of <paramref name="host"/> (again) and waits until the API sees both hosts ready.</summary>
    public async Task RestartAgentAsync(string host)
    {
        // Ready alone is not enough: the API counts a killed agent ready until it misses three heartbeats.
        var started = DateTimeOffset.UtcNow;
        StartAgent(host);
        await WaitUntil(async () => (await Get($"/api/v1/hosts/{host}"))["lastHeartbeatAt"] is { } beat && beat.GetValue<DateTimeOffset>() > started,
            $"{host}'s new agent to report to the API", TimeSpan.FromSeconds(90));
        await WaitUntilBothHostsReady();
    }

    /// <summary>
    /// Starts again whatever part of the cluster is down (PostgreSQL, the API, an agent), as a supervisor would:
    /// a test that found a part dead has failed already, and the next one must start on a whole cluster.
    /// </summary>
    public async Task EnsureRunningAsync()
    {
        await Scripts.RunAsync("postgres.sh", ScriptEnvironment, "start", _pgData, _pgPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var dead in _services.Where(s => s.HasExited).ToList())
        {
            _services.Remove(dead);
            await dead.DisposeAsync();
            if (dead.Name == "api")
            {
                await StartApiAsync();
            }
            else
            {
                await RestartAgentAsync(dead.Name);
            }
        }
    }

    /// <summary>The ports on the bridge of <paramref name="host"/>'s switch, read from its database with ovs-vsctl, not through the agent.</summary>
    public async Task<string[]> PortsAsync(string host)
    {
        var run = await Programs.RunAsync("ovs-vsctl", [$"--db=unix:{Path.Combine(_runRoot, host, "ovs", "db.sock")}", "--no-wait", "--timeout=10", "list-ports", "br-ferry"]);
        return run.Succeeded
            ? run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            : throw new InvalidOperationException($"ovs-vsctl list-ports on {host} failed: {run.Error}\n{Diagnostics}");
    }

    /// <summary>Takes <paramref name="host"/>'s link to the bridge down or up: its agent and its migration address become unreachable.</summary>
    public Task SetLinkAsync(string host, bool up) =>
        RunAsync("ip", "link", "set", $"{Prefix}-{host[^1]}-br", up ? "up" : "down");

    /// <summary>The forwarding guest's image (shared with the agent tests); none, with the reason, without Debian's packages.</summary>
    private async Task BuildForwardingImageAsync()
    {
        var build = await ForwardingGuestBuild.RunAsync(CancellationToken.None);
        ForwardingImageUnavailable = build.Unavailable;
        _forwardingImage = build.Unavailable is null ? build.Directory : null;
    }

    private void StartAgent(string host)
    {
        var ip = host == "host-a" ? $"{Subnet}.2" : $"{Subnet}.3";
        var (certificate, key) = CertificateFiles(host);
        _services.Add(ServiceProcess.Start(host, "ip", ["netns", "exec", $"{Prefix}-{host[^1]}", "dotnet", Bin("Agent"),
            $"--Ferry:Agent:HostName={host}", $"--Ferry:Agent:MigrationAddress={ip}", $"--Ferry:Agent:GrpcUrl=https://{ip}:5090",
            $"--Ferry:Agent:ApiUrl={ControlPlaneUrl}", $"--Ferry:Agent:RunRoot={_runRoot}", $"--Ferry:Agent:StateRoot={Path.Combine(_runRoot, "state")}", "--Ferry:Agent:HeartbeatInterval=00:00:02",
            $"--Ferry:Tls:CaFile={Path.Combine(Credentials, "pki", "ca.crt")}", $"--Ferry:Tls:CertificateFile={certificate}", $"--Ferry:Tls:KeyFile={key}",

            // The agents' own switches, never a system OVS; two idle PMD threads must not take both cores.
            "--Ferry:Ovs:UseSystemInstance=false", "--Ferry:Ovs:PmdMaxSleepMicroseconds=1000",

            // Every native migration here proves the target got the last version of every page.
            "--Ferry:Native:VerifyRam=true",

            // The switches are joined by hosts.sh's fabric veth pair, which carries the probes' streams.
            "--Ferry:Probe:FabricPort=fabric",

            // Inert while the file is absent; the fault suite writes a phase into it to kill a part inside that phase.
            $"--Ferry:Testing:HoldFile={HoldFile}",
            .. _forwardingImage is null ? Array.Empty<string>() : [$"--Ferry:Qemu:ForwardingGuestImage={_forwardingImage}"]]));
    }

    /// <summary>Both hosts ready at the API: after an API restart or an agent kill the monitor may still count one as down for a heartbeat or two.</summary>
    public Task WaitUntilBothHostsReady() => WaitUntil(async () =>
    {
        var hosts = JsonNode.Parse(await Api.GetStringAsync("/api/v1/hosts?state=ready"))!["items"]!.AsArray();
        return hosts.Count == 2;
    }, "both agents to be ready");

    private static async Task RunAsync(string file, params string[] arguments)
    {
        var run = await Programs.RunAsync(file, arguments);
        if (!run.Succeeded)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {run.Error}");
        }
    }

    /// <summary>SIGKILL to the API process, then a new one on the same database, as a supervisor would start it.</summary>
    public async Task KillApiAsync(Func<Task>? whileDown = null)
    {
        var api = _services.Single(s => s.Name == "api");
        _services.Remove(api);
        api.Kill();
        await api.DisposeAsync();
        if (whileDown is not null)
        {
            await whileDown();
        }

        await StartApiAsync();
    }

    /// <summary>SIGKILL to PostgreSQL's postmaster and every backend (no shutdown checkpoint), then starts it again on the same data.</summary>
    public async Task KillPostgresAsync(Func<Task>? whileDown = null)
    {
        var pidFile = Path.Combine(_pgData, "postmaster.pid");
        var postmaster = int.Parse(File.ReadLines(pidFile).First(), System.Globalization.CultureInfo.InvariantCulture);
        var backends = Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(d => d!.All(char.IsAsciiDigit)).Select(d => int.Parse(d!, System.Globalization.CultureInfo.InvariantCulture))
            .Where(pid => ParentOf(pid) == postmaster).ToList();
        foreach (var pid in backends.Prepend(postmaster))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        await WaitUntil(() => Task.FromResult(backends.Prepend(postmaster).All(pid => !Directory.Exists($"/proc/{pid}"))), "PostgreSQL's processes to be gone", TimeSpan.FromSeconds(20));

        // No process of the old cluster is left: its lock file goes too, so that pg_ctl status cannot take a reused pid for it.
        File.Delete(pidFile);
        if (whileDown is not null)
        {
            await whileDown();
        }

        await Scripts.RunAsync("postgres.sh", ScriptEnvironment, "start", _pgData, _pgPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Stops the API process (as an init system would, SIGTERM) and starts a new one on the same database.</summary>
    public async Task RestartApiAsync()
    {
        var api = _services.Single(s => s.Name == "api");
        _services.Remove(api);
        await api.DisposeAsync();
        await StartApiAsync();
    }

    private async Task StartApiAsync()
    {
        _services.Add(ServiceProcess.Start("api", "dotnet", [Bin("Api"), "--contentRoot", Path.Combine(Repository.Root, "src", "Api")], new Dictionary<string, string>
        {
            ["ConnectionStrings__Ferry"] = $"Host=127.0.0.1;Port={_pgPort};Database=ferry;Username=ferry;Password=ferry",
            ["Kestrel__Endpoints__Http__Url"] = $"http://{Subnet}.1:5180",
            ["Kestrel__Endpoints__Grpc__Url"] = ControlPlaneUrl.ToString(),
            ["Ferry__Security__ApiKeys__0__Name"] = "e2e",
            ["Ferry__Security__ApiKeys__0__Key"] = "sha256:" + _apiKeyHash,
            ["Ferry__Security__ApiKeys__0__Scopes__0"] = "admin",
            ["Ferry__Tls__CaFile"] = Path.Combine(Credentials, "pki", "ca.crt"),
            ["Ferry__Tls__CertificateFile"] = CertificateFiles("api").Certificate,
            ["Ferry__Tls__KeyFile"] = CertificateFiles("api").Key,
            ["Ferry__Scheduler__PollInterval"] = "00:00:00.200",
            ["Ferry__Agents__HeartbeatInterval"] = "00:00:02",
            ["Logging__LogLevel__Default"] = "Information",
            ["Ferry__Testing__HoldFile"] = HoldFile,

            // Room for every migration a test leaves stuck (the fault suite's failures) without queueing the next test's behind it.
            ["Ferry__Scheduler__MaxOutboundPerHost"] = "50",
            ["Ferry__Scheduler__MaxInboundPerHost"] = "50",
            ["Ferry__Scheduler__MaxClusterWide"] = "100",
        }));
        await WaitUntil(async () => (await Api.GetAsync("/readyz")).IsSuccessStatusCode, "the API to be ready");
    }

    private static string Bin(string project) =>
        Path.Combine(Repository.Root, "src", project, "bin", Repository.Configuration, "net10.0", $"Ferry.{project}.dll");

    public async ValueTask DisposeAsync()
    {
        foreach (var s in Enumerable.Reverse(_services))
        {
            await s.DisposeAsync();
        }

        // The agents stopped their switches but not their guests (a guest outlives its agent): what still runs in
        // the namespaces is ended and the guests' RAM files freed, as make run does, before the namespaces go.
        // Without it every suite left the RAM file of each guest that had arrived by migration in
        // /dev/shm/ferry-host-b (three of 128 MiB after a full make test, issue 12).
        // Every step runs even when one fails (a process that outlived SIGKILL), and the first failure is thrown at the end.
        var failures = new List<Exception>();
        foreach (var (script, args) in new (string, string[])[]
        {
            ("reap.sh", [_runRoot, $"host-a={Namespaces[0]}", $"host-b={Namespaces[1]}"]),
            ("hosts.sh", ["down", Prefix]),
            ("postgres.sh", ["stop", _pgData]),
        })
        {
            try
            {
                await Scripts.RunAsync(script, ScriptEnvironment, args);
            }
            catch (InvalidOperationException ex)
            {
                failures.Add(ex);
            }
        }

        if (_hugepagesBefore is { } before)
        {
            Hugepages.GiveBack(before, _hugepagesAfter);
        }

        Api.Dispose();
        File.Delete(HoldFile);
        File.Delete(HoldFile + ".held");
        TryDelete(_runRoot);
        TryDelete(_pgData);
        TryDelete(Credentials);
        if (failures.Count > 0)
        {
            throw new AggregateException("stopping the end-to-end cluster left something behind", failures);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with the services' output when it never does.</summary>
    public async Task WaitUntil(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)))
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not up yet.
            }

            if (_services.FirstOrDefault(s => s.HasExited) is { } dead)
            {
                throw new InvalidOperationException($"{dead.Name} exited while waiting for {what}\n{Diagnostics}");
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"timed out waiting for {what}\n{Diagnostics}");
    }

    public async Task<JsonObject> Post(string path, object body)
    {
        var response = await Api.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} -> {(int)response.StatusCode}: {text}\n{Diagnostics}");
        }

        return JsonNode.Parse(text)!.AsObject();
    }

    public async Task<JsonObject> Get(string path) => JsonNode.Parse(await Api.GetStringAsync(path))!.AsObject();

    private static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
