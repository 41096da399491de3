using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Ferry.EndToEnd.Tests;

/// <summary>
/// Issue 12's fault suite: a page-counter guest is moved from host-a to host-b and, held at the start of one
/// phase (the test-only hold file, <see cref="TwoHostCluster.HoldFile"/>), one part is killed with SIGKILL and
/// started again (the API, the source agent, the target agent, PostgreSQL) or the target's link is cut. After
/// each: the migration ends within <see cref="EndBound"/> (docs/recovery.md); exactly one QEMU of the guest is
/// left, running, with its memory invariant intact; <c>guestOnTarget</c> says where it runs; the migration is
/// recorded once; and a new migration of the guest completes.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class FaultSuiteTests(TwoHostCluster cluster)
{
    /// <summary>The smallest page-counter guest the launcher takes is 16 MiB; 32 leaves the counter a range worth checking.</summary>
    private const int MemoryMiB = 32;

    /// <summary>Within this after the fault every migration must have ended (docs/recovery.md): progress timeout, call deadlines and backoff, with room for a loaded machine.</summary>
    private static readonly TimeSpan EndBound = TimeSpan.FromSeconds(90);

    /// <summary>How long the link stays cut when the migration has not ended by then: past the source's 10 s target-lost and the 20 s progress timeouts.</summary>
    private static readonly TimeSpan LinkOutage = TimeSpan.FromSeconds(30);

    private static readonly string[] Terminal = ["completed", "failed", "cancelled"];

    public static TheoryData<string> Phases => ["queued", "preparingTarget", "running", "switchingOver", "cleaningUp"];

    // A short progress timeout, so that a migration nobody drives ends in the suite's time; KVM runs the page counter here.
    private static object Policy() => new { transport = "qemu", maxDowntimeMs = 500, completionTimeoutSecondsPerGiB = 3000, progressTimeoutSeconds = 20 };

    [Theory]
    [MemberData(nameof(Phases))]
    public Task The_api_killed_in_a_phase_leaves_one_running_guest_and_one_record(string phase) =>
        RunAsync("api", phase, release => cluster.KillApiAsync(whileDown: release));

    [Theory]
    [MemberData(nameof(Phases))]
    public Task The_source_agent_killed_in_a_phase_leaves_one_running_guest_and_one_record(string phase) =>
        RunAsync("src", phase, async release =>
        {
            await cluster.KillAgentAsync("host-a");
            await release();
            await cluster.RestartAgentAsync("host-a");
        });

    [Theory]
    [MemberData(nameof(Phases))]
    public Task The_target_agent_killed_in_a_phase_leaves_one_running_guest_and_one_record(string phase) =>
        RunAsync("tgt", phase, async release =>
        {
            await cluster.KillAgentAsync("host-b");
            await release();
            await cluster.RestartAgentAsync("host-b");
        });

    [Theory]
    [MemberData(nameof(Phases))]
    public Task PostgreSQL_killed_in_a_phase_leaves_one_running_guest_and_one_record(string phase) =>
        RunAsync("pg", phase, release => cluster.KillPostgresAsync(whileDown: release));

    [Theory]
    [MemberData(nameof(Phases))]
    public Task The_link_between_the_hosts_cut_in_a_phase_leaves_one_running_guest_and_one_record(string phase) =>
        RunAsync("net", phase, async release =>
        {
            await cluster.SetLinkAsync("host-b", up: false);
            try
            {
                await release();

                // Down until the migration ended or the outage is over; the API (reachable, host-a's side) tells which.
                await WaitQuietlyAsync(async () => IsTerminal(await StateAsync()), LinkOutage);
            }
            finally
            {
                await cluster.SetLinkAsync("host-b", up: true);
            }
        });

    private string _migration = "";

    private async Task<string> StateAsync() => (await cluster.Get($"/api/v1/migrations/{_migration}"))["state"]!.GetValue<string>();

    /// <summary>
    /// One case: the guest on host-a, a hold at <paramref name="phase"/>, the migration to host-b, the fault once
    /// the hold is reached (<paramref name="fault"/> releases the hold itself, when the part is down), then the checks.
    /// </summary>
    private async Task RunAsync(string fault, string phase, Func<Func<Task>, Task> inject)
    {
        var guest = $"ff-{fault}-{Abbreviation(phase)}";
        var diagnostics = new List<string>();
        try
        {
            await cluster.WaitUntilBothHostsReady();
            await cluster.Post("/api/v1/guests", new { name = guest, memoryMiB = MemoryMiB, vcpus = 1, host = "host-a", profile = "pageCounter" });
            await cluster.Post($"/api/v1/guests/{guest}/start", new { });
            await GuestMemoryProbe.WaitUntilCountingAsync(cluster.RunRoot, "host-a", guest);

            await File.WriteAllTextAsync(cluster.HoldFile, phase, TestContext.Current.CancellationToken);
            var accepted = await cluster.Post("/api/v1/migrations", new { guest, targetHost = "host-b", policy = Policy() });
            _migration = accepted["id"]!.GetValue<string>();
            await WaitForHoldAsync(phase);

            var faulted = Stopwatch.StartNew();
            await inject(ReleaseAsync);

            JsonObject m = [];
            try
            {
                await cluster.WaitUntil(async () =>
                {
                    m = await cluster.Get($"/api/v1/migrations/{_migration}");
                    return Terminal.Contains(m["state"]!.GetValue<string>());
                }, $"migration {_migration} ({fault} in {phase}) to end", EndBound);
            }
            catch (TimeoutException e)
            {
                diagnostics.Add($"{fault} in {phase}: not ended {EndBound.TotalSeconds:F0} s after the fault; it stands at '{m["state"]}': {m.ToJsonString()}; QEMUs of the guest: "
                    + string.Join("; ", QemuProcesses(guest).Select(q => $"pid {q.Pid} on {q.Host} ({Path.GetFileName(q.Instance)})")));
                throw new TimeoutException($"{string.Join('\n', diagnostics)}\n{e.Message}", e);
            }

            var ended = faulted.Elapsed;
            var state = m["state"]!.GetValue<string>();
            diagnostics.Add($"{fault} in {phase}: ended '{state}' {ended.TotalSeconds:F1} s after the fault, guestOnTarget {m["guestOnTarget"]}; {m["failureReason"]}");

            // Where the guest runs: exactly one QEMU of it left (a paused leftover is given a moment to be reaped).
            var (host, instance) = await TheOneQemuAsync(guest);
            var (invariant, runState) = await GuestMemoryProbe.CheckAsync(host, instance, MemoryMiB);
            Assert.True(runState == "running", $"{guest}'s only QEMU, on {host}, is '{runState}'\n{string.Join('\n', diagnostics)}\n{cluster.Diagnostics}");
            Assert.True(invariant.Holds, $"{invariant}\n{string.Join('\n', diagnostics)}");
            Assert.True(m["guestOnTarget"]!.GetValue<bool>() == (host == "host-b"), $"guestOnTarget is {m["guestOnTarget"]} but the guest runs on {host}: {m.ToJsonString()}");
            Assert.True(state != "completed" || host == "host-b", $"completed, but the guest runs on {host}");
            await cluster.WaitUntil(async () => (await cluster.Get($"/api/v1/guests/{guest}"))["host"]!.GetValue<string>() == host, $"the API to place {guest} on {host}", TimeSpan.FromSeconds(10));

            // Recorded once: one terminal entry, nothing after it, one row, and its result only when completed.
            await AssertRecordedOnceAsync(guest, state);

            // And the guest moves again, once both hosts are back (a cut link marks host-b down until its next heartbeat).
            await cluster.WaitUntilBothHostsReady();
            var other = host == "host-a" ? "host-b" : "host-a";
            var again = await cluster.Post("/api/v1/migrations", new { guest, targetHost = other, policy = Policy() });
            JsonObject next = [];
            await cluster.WaitUntil(async () =>
            {
                next = await cluster.Get($"/api/v1/migrations/{again["id"]}");
                return Terminal.Contains(next["state"]!.GetValue<string>());
            }, $"the next migration of {guest} to end", EndBound);
            Assert.True(next["state"]!.GetValue<string>() == "completed", $"the next migration of {guest} ({host} -> {other}): {next.ToJsonString()}\n{cluster.Diagnostics}");
            var (movedTo, movedInstance) = await TheOneQemuAsync(guest);
            Assert.Equal(other, movedTo);
            var (after, afterState) = await GuestMemoryProbe.CheckAsync(movedTo, movedInstance, MemoryMiB);
            Assert.Equal("running", afterState);
            Assert.True(after.Holds, after.ToString());
        }
        finally
        {
            foreach (var line in diagnostics)
            {
                TestContext.Current.SendDiagnosticMessage(line);
            }

            await ReleaseAsync();
            await RestoreAsync();
            await RemoveGuestAsync(guest);
        }
    }

    /// <summary>The hold reached for this migration, and the API showing the phase: the fault then lands inside it.</summary>
    private async Task WaitForHoldAsync(string phase)
    {
        var marker = cluster.HoldFile + ".held";
        var state = "";
        await cluster.WaitUntil(async () =>
        {
            state = await StateAsync();
            if (Terminal.Contains(state))
            {
                throw new InvalidOperationException($"migration {_migration} ended '{state}' before the hold at {phase}\n{cluster.Diagnostics}");
            }

            return state == phase && File.Exists(marker) && (await File.ReadAllTextAsync(marker)).Trim() == $"{phase} {_migration}";
        }, $"migration {_migration} to be held at {phase}", TimeSpan.FromSeconds(30));
    }

    private async Task ReleaseAsync()
    {
        File.Delete(cluster.HoldFile);
        File.Delete(cluster.HoldFile + ".held");
        await Task.CompletedTask;
    }

    /// <summary>After a case, whatever it did: the link up and both agents ready, so the next case starts whole.</summary>
    private async Task RestoreAsync()
    {
        await cluster.SetLinkAsync("host-b", up: true);
        await cluster.EnsureRunningAsync();
        await cluster.WaitUntilBothHostsReady();
    }

    private async Task AssertRecordedOnceAsync(string guest, string state)
    {
        var m = await cluster.Get($"/api/v1/migrations/{_migration}");
        var states = m["timeline"]!.AsArray().Where(e => e!["event"] is null).Select(e => e!["state"]!.GetValue<string>()).ToList();
        Assert.True(states.Count(s => Terminal.Contains(s)) == 1 && Terminal.Contains(states[^1]), $"timeline: {string.Join(", ", states)}");
        Assert.Equal(state, states[^1]);
        // A completed migration has its measured result, unless the source's result was lost past the pause and the
        // API completed it on the target's word (reconcile), which its last timeline note says.
        var reconciled = m["timeline"]!.AsArray()[^1]!["note"]?.GetValue<string>() is { } note && note.Contains("says the guest runs there", StringComparison.Ordinal);
        Assert.True(state == "completed" ? m["result"] is JsonObject || reconciled : m["result"] is null,
            $"result {m["result"]?.ToJsonString() ?? "null"} for a '{state}' migration: {m.ToJsonString()}");
        var listed = (await cluster.Get($"/api/v1/migrations?guest={guest}"))["items"]!.AsArray();
        Assert.Single(listed, i => i!["id"]!.GetValue<string>() == _migration && i["state"]!.GetValue<string>() == state);
        Assert.Single(listed);
    }

    /// <summary>The one QEMU process of <paramref name="guest"/> on either host (by its command line), waiting a bounded while for leftovers to go.</summary>
    private async Task<(string Host, string Instance)> TheOneQemuAsync(string guest)
    {
        List<(int Pid, string Host, string Instance)> found = [];
        try
        {
            await cluster.WaitUntil(() =>
            {
                found = QemuProcesses(guest);
                return Task.FromResult(found.Count == 1);
            }, $"exactly one QEMU of {guest}", TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{found.Count} QEMU processes of {guest}: {string.Join("; ", found.Select(f => $"pid {f.Pid} on {f.Host} ({Path.GetFileName(f.Instance)})"))}\n{cluster.Diagnostics}");
        }

        return (found[0].Host, found[0].Instance);
    }

    /// <summary>Every QEMU whose command line names <paramref name="guest"/> (<c>-name guest=NAME,</c>), with the host and instance directory its QMP socket is in.</summary>
    private List<(int Pid, string Host, string Instance)> QemuProcesses(string guest)
    {
        var found = new List<(int, string, string)>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string[] args;
            try
            {
                args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (!args.Contains($"guest={guest},debug-threads=on") || args.FirstOrDefault(a => a.Contains("id=qmp0,", StringComparison.Ordinal)) is not { } qmp
                || QmpPath().Match(qmp) is not { Success: true } match || !match.Groups[1].Value.StartsWith(cluster.RunRoot + "/", StringComparison.Ordinal))
            {
                continue;
            }

            var instance = match.Groups[1].Value;
            var host = instance[(cluster.RunRoot.Length + 1)..].Split('/')[0];
            found.Add((pid, host, instance));
        }

        return found;
    }

    /// <summary>Stops and deletes the guest through the API, then ends (by pid) any QEMU of it still left and its RAM files, so no case leaves a spinning vCPU behind.</summary>
    private async Task RemoveGuestAsync(string guest)
    {
        try
        {
            await cluster.Api.PostAsync($"/api/v1/guests/{guest}/stop", null);
            await cluster.Api.DeleteAsync($"/api/v1/guests/{guest}");
        }
        catch (HttpRequestException)
        {
        }

        foreach (var (pid, _, _) in QemuProcesses(guest))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                await process.WaitForExitAsync();
            }
            catch (ArgumentException)
            {
            }
        }

        foreach (var host in new[] { "host-a", "host-b" })
        {
            var shm = Path.Combine("/dev/shm", $"ferry-{host}");
            if (Directory.Exists(shm))
            {
                foreach (var ram in Directory.GetFiles(shm, $"ferry-{guest}*.ram").Where(f => Path.GetFileName(f) == $"ferry-{guest}.ram" || Path.GetFileName(f).StartsWith($"ferry-{guest}-in-", StringComparison.Ordinal)))
                {
                    File.Delete(ram);
                }
            }
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="limit"/> passed; false then, without failing.</summary>
    private async Task WaitQuietlyAsync(Func<Task<bool>> condition, TimeSpan limit)
    {
        try
        {
            await cluster.WaitUntil(condition, "the outage to end", limit);
        }
        catch (TimeoutException)
        {
        }
    }

    private static bool IsTerminal(string state) => Array.IndexOf(Terminal, state) >= 0;

    private static string Abbreviation(string phase) => phase switch
    {
        "queued" => "q",
        "preparingTarget" => "prep",
        "running" => "run",
        "switchingOver" => "sw",
        _ => "clean",
    };

    [GeneratedRegex("path=([^,]+)/qmp\\.sock")]
    private static partial Regex QmpPath();
}
