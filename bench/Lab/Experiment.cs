using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Ferry.Lab;

/// <summary>
/// The origin document's experiment against a running Ferry: the lab guests defined on host-a if absent and started,
/// then, per transport, each guest migrated back and forth <see cref="LabOptions.Runs"/> times, one migration at a time.
/// </summary>
internal sealed class Experiment(FerryApiClient api, LabOptions options, TextWriter say)
{
    private const string HomeHost = "host-a";
    private const string OtherHost = "host-b";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public async Task<IReadOnlyList<LabMigrationOutcome>> RunAsync(CancellationToken ct)
    {
        var cases = options.Cases.Select(c => LabCase.Named(c, options)).ToList();
        foreach (var lab in cases)
        {
            await EnsureRunningAsync(lab, ct);
        }

        var outcomes = new List<LabMigrationOutcome>();
        foreach (string transport in options.Transports)
        {
            // The forwarding case first: an API that refuses the probe field stops the lab within a minute, not after the idle runs.
            foreach (var lab in cases.OrderBy(c => c.Forwards ? 0 : 1))
            {
                for (int run = 1; run <= options.Runs; run++)
                {
                    var outcome = await MigrateOnceAsync(lab, transport, run, ct);
                    outcomes.Add(outcome);
                    say.WriteLine(Describe(outcome));
                    if (StoppedForwarding(lab, outcome))
                    {
                        await RestartAsync(lab, outcome, ct);
                    }

                    await Task.Delay(options.Settle, ct);
                }
            }
        }

        return outcomes;
    }

    /// <summary>
    /// A forwarding guest whose stream did not come back after a migration (or never came before it) forwards
    /// nothing any more: under TCG its virtio TX ring was seen corrupted after some migrations ("output.0:id N
    /// is not a head!", then a soft lockup). Every later run would only measure that, so the lab restarts it.
    /// </summary>
    private static bool StoppedForwarding(LabCase lab, LabMigrationOutcome outcome) =>
        lab.Forwards && outcome.Completed && outcome.NetworkDowntimeMs is null && outcome.ProbeNote is not null;

    private async Task RestartAsync(LabCase lab, LabMigrationOutcome after, CancellationToken ct)
    {
        Restarts++;
        say.WriteLine($"lab: {lab.Guest} stopped forwarding after {after.Transport} run {after.Run} ({after.ProbeNote}); restarting it on {after.To} so that the next runs measure a forwarding guest");
        var stopped = await api.StopGuestAsync(lab.Guest, ct);
        var started = await api.StartGuestAsync(lab.Guest, ct);
        if (!stopped.Succeeded || !started.Succeeded)
        {
            throw new LabAbortedException($"could not restart {lab.Guest}: {(stopped.Succeeded ? started.ProblemText : stopped.ProblemText)}");
        }
    }

    /// <summary>How often a forwarding guest had to be restarted because it stopped forwarding after a migration.</summary>
    public int Restarts { get; private set; }

    /// <summary>The guest as the lab wants it, running: an existing one of another size or kind is replaced.</summary>
    private async Task EnsureRunningAsync(LabCase lab, CancellationToken ct)
    {
        var existing = await api.GetGuestAsync(lab.Guest, ct);
        if (existing.Succeeded && existing.Body is { } guest && !Matches(guest, lab))
        {
            say.WriteLine($"lab: guest {lab.Guest} exists with another size, profile or memory backing; replacing it");
            await api.StopGuestAsync(lab.Guest, ct);
            var deleted = await api.DeleteGuestAsync(lab.Guest, ct);
            if (!deleted.Succeeded)
            {
                throw new LabAbortedException($"could not delete guest {lab.Guest} to redefine it: {deleted.ProblemText}");
            }

            existing = await api.GetGuestAsync(lab.Guest, ct);
        }

        if (existing.Status == HttpStatusCode.NotFound)
        {
            var defined = await api.DefineGuestAsync(lab, HomeHost, options.Hugepages, ct);
            if (!defined.Succeeded)
            {
                throw new LabAbortedException($"could not define guest {lab.Guest} on {HomeHost}: {defined.ProblemText}");
            }

            say.WriteLine($"lab: defined {lab.Guest} on {HomeHost} (profile {lab.Profile}, {lab.MemoryMiB} MiB{(options.Hugepages ? " on 2 MiB hugepages" : "")}, {lab.Vcpus} vCPU, ports {string.Join(", ", lab.Ports)})");
        }
        else if (!existing.Succeeded)
        {
            throw new LabAbortedException($"could not read guest {lab.Guest}: {existing.ProblemText}");
        }

        var started = DateTime.UtcNow;
        var start = await api.StartGuestAsync(lab.Guest, ct);
        if (!start.Succeeded)
        {
            throw new LabAbortedException($"could not start guest {lab.Guest}: {start.ProblemText}");
        }

        string host = start.Body is { } view && view.TryGetProperty("host", out var h) ? h.GetString() ?? "?" : "?";
        say.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lab: {lab.Guest} runs on {host} (start took {(DateTime.UtcNow - started).TotalSeconds:0.0} s)"));
    }

    private bool Matches(JsonElement guest, LabCase lab) =>
        guest.TryGetProperty("memoryMiB", out var memory) && memory.GetInt32() == lab.MemoryMiB
        && guest.TryGetProperty("vcpus", out var vcpus) && vcpus.GetInt32() == lab.Vcpus
        && guest.TryGetProperty("profile", out var profile) && profile.GetString() == lab.Profile
        && (guest.TryGetProperty("hugepageSizeKiB", out var hugepages) && hugepages.ValueKind == JsonValueKind.Number) == options.Hugepages
        && guest.TryGetProperty("vhostUserPorts", out var ports) && ports.EnumerateArray().Select(p => p.GetString()).SequenceEqual(lab.Ports);

    private async Task<LabMigrationOutcome> MigrateOnceAsync(LabCase lab, string transport, int run, CancellationToken ct)
    {
        var guest = await api.GetGuestAsync(lab.Guest, ct);
        string from = guest.Body is { } g && g.TryGetProperty("host", out var h) ? h.GetString() ?? HomeHost : HomeHost;
        string to = from == HomeHost ? OtherHost : HomeHost;
        int? probe = lab.Forwards && !options.NoProbe ? options.RatePps : null;

        var request = await api.RequestMigrationAsync(lab.Guest, to, transport, probe, ct);
        if (request.Status == HttpStatusCode.BadRequest && probe is not null)
        {
            // Every forwarding migration carries the probe field: a 400 for one is a 400 for all of them.
            throw new LabAbortedException(
                $"the API answered 400 to a migration whose policy has probeRatePps={probe} (does this API know the network probe yet?): {request.ProblemText.TrimEnd('.')}. " +
                "`--no-probe` (make lab LAB_ARGS=--no-probe) runs the forwarding case without the network probe.");
        }

        if (!request.Succeeded || request.Body is not { } accepted || !accepted.TryGetProperty("id", out var idElement) || !idElement.TryGetGuid(out var id))
        {
            return LabMigrationOutcome.Refused(lab.Name, transport, run, from, to, $"the API refused the migration: {request.ProblemText}");
        }

        var deadline = DateTime.UtcNow + options.MigrationTimeout;
        while (true)
        {
            var answer = await api.GetMigrationAsync(id, ct);
            if (answer.Succeeded && answer.Body is { } migration && MigrationJson.HasEnded(migration))
            {
                return MigrationJson.Outcome(migration, lab.Name, transport, run, from, to);
            }

            if (DateTime.UtcNow > deadline)
            {
                await api.CancelMigrationAsync(id, ct);
                return LabMigrationOutcome.Refused(lab.Name, transport, run, from, to,
                    $"not ended after {options.MigrationTimeout.TotalSeconds:0} s (cancel requested); last state {(answer.Body is { } m ? MigrationJson.State(m) : answer.ProblemText)}") with { Id = id, State = "timed out" };
            }

            await Task.Delay(PollInterval, ct);
        }
    }

    private static string Describe(LabMigrationOutcome o)
    {
        string head = $"  {o.Case,-5} {o.Transport,-6} run {o.Run} {o.From}→{o.To}: ";
        if (!o.Completed)
        {
            return head + $"{o.State.ToUpperInvariant()}: {o.FailureReason}";
        }

        return head + string.Create(CultureInfo.InvariantCulture,
            $"total {LabReport.Short(o.TotalMs)} ms, downtime {LabReport.Short(o.DowntimeMs)} ms, network downtime {LabReport.Short(o.NetworkDowntimeMs)} ms, frames lost {(o.FramesLost?.ToString(CultureInfo.InvariantCulture) ?? "-")} of {(o.FramesSent?.ToString(CultureInfo.InvariantCulture) ?? "-")}, arrival rate {LabReport.Short(o.PacketRatePps)} pps{(o.PausedCopy ? " (paused copy)" : "")}{(o.ProbeNote is { } note ? $"; probe: {note}" : "")}");
    }
}
