using System.Globalization;
using System.Text.Json.Nodes;
using Ferry.Testing;

namespace Ferry.EndToEnd.Tests.MakeRun;

/// <summary>
/// make run itself, as its users stop it and as its parts fail (docs/reliability.md, "nothing outlives what
/// started it"): stopped by SIGTERM to its process group (systemd, a container runtime, kill -- -PGID) or
/// by Ctrl-C, it leaves no process, namespace, port, RAM file, socket or hugepage reservation behind and
/// says "ferry: stopped"; an API or agent that dies is started again and make run says so.
/// </summary>
[Collection(MakeRunCollection.Name)]
public sealed class MakeRunTests
{
    private const int SigInt = 2;

    // Bounds on a shared two-core machine, failure deadlines only: make run is usually ready in under a minute.
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(150);
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan RestartDeadline = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_signal_to_make_runs_process_group_stops_everything_it_started(string signal)
    {
        var place = MakeRunPlace.Pick();
        var before = Preconditions(place);
        await using var run = MakeRunProcess.Start(place);
        if (signal == "INT" && run.Ignores(SigInt))
        {
            Assert.Skip("SIGINT is ignored in the process tree that runs these tests (inherited), so make run cannot take a Ctrl-C here");
        }

        await run.WaitForLineAsync("ferry: ready", ReadyDeadline);
        AssertRunsWithItsGuest(run);

        await run.SignalGroupAsync(signal);
        await AssertStoppedLeavingNothing(run, before);
    }

    [Fact]
    public async Task A_killed_API_or_agent_is_started_again_and_make_run_says_so()
    {
        var place = MakeRunPlace.Pick();
        var before = Preconditions(place);
        await using var run = MakeRunProcess.Start(place);
        await run.WaitForLineAsync("ferry: ready", ReadyDeadline);
        using var api = new HttpClient { BaseAddress = place.ApiUrl, Timeout = TimeSpan.FromSeconds(10) };
        api.DefaultRequestHeaders.Add("X-Api-Key", (await File.ReadAllTextAsync(Path.Combine(MakeRunProcess.State, "api-key"), TestContext.Current.CancellationToken)).Trim());

        // SIGKILL, as the OOM killer would: a failure, which Restart=on-failure restarts.
        var killedApi = await KillPartAsync(run, "api");
        await run.WaitForLineAsync("ferry: the API exited (killed by SIGKILL)", RestartDeadline);
        await run.WaitForLineAsync("ferry: starting the API again", RestartDeadline);
        await WaitUntil(run, async () => PartPid("api") is { } pid && pid != killedApi && (await api.GetAsync("/readyz")).IsSuccessStatusCode,
            "the restarted API to be ready");
        await WaitUntil(run, () => BothHostsReady(api), "both agents to report to the restarted API");

        var killedAgent = await KillPartAsync(run, "agent-b");
        await run.WaitForLineAsync("ferry: the agent of host-b exited (killed by SIGKILL)", RestartDeadline);
        await run.WaitForLineAsync("ferry: starting the agent of host-b again", RestartDeadline);
        await WaitUntil(run, async () => PartPid("agent-b") is { } pid && pid != killedAgent && await BothHostsReady(api),
            "the restarted agent of host-b to register again");

        await run.SignalGroupAsync("TERM");
        await AssertStoppedLeavingNothing(run, before);
    }

    [Fact]
    public async Task Make_run_killed_mid_migration_comes_up_again_with_its_demo_guest_and_ends_the_migration()
    {
        var ct = TestContext.Current.CancellationToken;
        var place = MakeRunPlace.Pick();
        var before = Preconditions(place);
        string migration;
        await using (var killed = MakeRunProcess.Start(place))
        {
            await killed.WaitForLineAsync("ferry: ready", ReadyDeadline);
            AssertRunsWithItsGuest(killed);
            using var api = Client(place);
            var demo = JsonNode.Parse(await api.GetStringAsync("/api/v1/guests/demo", ct))!;
            var target = demo["host"]!.GetValue<string>() == "host-a" ? "host-b" : "host-a";

            // At 1 Mbit/s a 256 MiB guest takes half an hour: the SIGKILL finds it running.
            var posted = await api.PostAsync("/api/v1/migrations", JsonContent(new JsonObject
            {
                ["guest"] = "demo", ["targetHost"] = target,
                ["policy"] = new JsonObject { ["transport"] = "qemu", ["bandwidthMbps"] = 1, ["progressTimeoutSeconds"] = 600, ["completionTimeoutSecondsPerGiB"] = 3600 },
            }), ct);
            var accepted = JsonNode.Parse(await posted.Content.ReadAsStringAsync(ct))!;
            Assert.True(posted.IsSuccessStatusCode, $"POST /api/v1/migrations: {(int)posted.StatusCode} {accepted.ToJsonString()}");
            migration = accepted["id"]!.GetValue<string>();
            await WaitUntil(killed, async () => MigrationState(await api.GetStringAsync($"/api/v1/migrations/{migration}", ct)) == "running", $"migration {migration} to run");

            // Everything in make run's process group at once, as the OOM killer or a power cut of the terminal would:
            // no cleanup runs, and PostgreSQL (its own session), the namespaces and the RAM files stay.
            await killed.SignalGroupAsync("KILL");
            await killed.WaitForExitAsync(StopDeadline);
        }

        await using var run = MakeRunProcess.Start(place);
        await run.WaitForLineAsync("ferry: ready", ReadyDeadline);
        AssertRunsWithItsGuest(run);
        Assert.Contains(run.Lines(), l => l.Contains($"migration {migration} was left", StringComparison.Ordinal));
        using (var api = Client(place))
        {
            var state = MigrationState(await api.GetStringAsync($"/api/v1/migrations/{migration}", ct));
            Assert.True(state is "cancelled" or "failed" or "completed", $"migration {migration} is '{state}' after make run came up again\n{run.Diagnostics}");
        }

        await run.SignalGroupAsync("TERM");
        await AssertStoppedLeavingNothing(run, before);
    }

    private static HttpClient Client(MakeRunPlace place)
    {
        var api = new HttpClient { BaseAddress = place.ApiUrl, Timeout = TimeSpan.FromSeconds(10) };
        api.DefaultRequestHeaders.Add("X-Api-Key", File.ReadAllText(Path.Combine(MakeRunProcess.State, "api-key")).Trim());
        return api;
    }

    private static StringContent JsonContent(JsonNode body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    private static string MigrationState(string json) => JsonNode.Parse(json)!["state"]!.GetValue<string>();

    /// <summary>
    /// What the machine holds before make run. What an earlier make run left (its database still running,
    /// its namespaces) is make run's to reconcile and stop, so it is not a reason to give up here.
    /// </summary>
    private static MakeRunFootprint Preconditions(MakeRunPlace place)
    {
        if (Environment.UserName != "root")
        {
            Assert.Skip("make run needs root: it creates network namespaces and reserves hugepages");
        }

        foreach (var project in new[] { "Api", "Agent" })
        {
            var dll = Path.Combine(Repository.Root, "src", project, "bin", "Release", "net10.0", $"Ferry.{project}.dll");
            if (!File.Exists(dll))
            {
                Assert.Skip($"make run runs the Release build and {dll} is missing (dotnet build -c Release)");
            }
        }

        return MakeRunFootprint.Capture(session: -1, place);
    }

    /// <summary>At "ready" make run holds what the stop must give back, so that the check after it means something.</summary>
    private static void AssertRunsWithItsGuest(MakeRunProcess run)
    {
        Assert.False(run.Lines().Any(l => l.Contains("the demo guest    not running", StringComparison.Ordinal)), $"make run came up without its demo guest\n{run.Diagnostics}");
        var running = MakeRunFootprint.Capture(run.ProcessGroup, run.Place);
        var ram = running.GuestFiles.Where(f => f.EndsWith("/ferry-demo.ram", StringComparison.Ordinal)).ToList();
        Assert.True(ram.Count == 1, $"the demo guest's RAM file did not appear in {string.Join(", ", run.Place.RamDirectories)}: {string.Join(", ", running.GuestFiles)}\n{run.Diagnostics}");
        Assert.True(running.Namespaces.Count == 2 && running.ListeningPorts.Count == 2, $"make run is ready without its namespaces or ports: {string.Join(", ", running.Namespaces)}; {string.Join(", ", running.ListeningPorts)}");
        Assert.Contains(running.Processes, p => p.Contains(ram[0], StringComparison.Ordinal));
        Assert.Contains(running.Processes, p => p.Contains("postgres", StringComparison.Ordinal));
    }

    private static async Task AssertStoppedLeavingNothing(MakeRunProcess run, MakeRunFootprint before)
    {
        var exit = await run.WaitForExitAsync(StopDeadline);
        Assert.True(run.Lines().Contains("ferry: stopped"), $"make run did not say 'ferry: stopped' (make exited {exit})\n{run.Diagnostics}");

        var left = MakeRunFootprint.Capture(run.ProcessGroup, run.Place).LeftSince(before);
        Assert.True(left.Count == 0, $"make run left behind:\n{string.Join('\n', left)}\n{run.Diagnostics}");
    }

    private static int? PartPid(string part)
    {
        var file = Path.Combine(MakeRunProcess.State, "pids", part + ".pid");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && Directory.Exists($"/proc/{pid}") ? pid : null;
    }

    private static async Task<int> KillPartAsync(MakeRunProcess run, string part)
    {
        var pid = PartPid(part);
        Assert.True(pid is not null, $"make run has no live {part} (.ferry/pids/{part}.pid)\n{run.Diagnostics}");
        await MakeRunProcess.SignalAsync(pid.Value, "KILL");
        return pid.Value;
    }

    private static async Task<bool> BothHostsReady(HttpClient api)
    {
        var hosts = JsonNode.Parse(await api.GetStringAsync("/api/v1/hosts?state=ready"))!["items"]!.AsArray();
        return hosts.Count == 2;
    }

    private static async Task WaitUntil(MakeRunProcess run, Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + RestartDeadline;
        while (DateTime.UtcNow < deadline)
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
                // Not (yet) answering.
            }
            catch (TaskCanceledException)
            {
                // Not (yet) answering in time.
            }

            Assert.False(run.HasExited, $"make run exited while waiting for {what}\n{run.Diagnostics}");
            await Task.Delay(250);
        }

        throw new TimeoutException($"timed out waiting for {what}\n{run.Diagnostics}");
    }
}
