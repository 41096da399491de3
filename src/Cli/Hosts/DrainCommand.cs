using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Ferry.Cli.Migrations;
using Ferry.Cli.Progress;
using Ferry.Cli.Rest;
using Spectre.Console;

namespace Ferry.Cli.Hosts;

/// <summary>
/// <c>ferry drain HOST</c>: stops placement on the host (<c>POST /api/v1/hosts/{host}/drain</c>), asks
/// for a migration of every guest on it, and follows them all, one line per guest. The API's scheduler
/// decides where each goes and how many move at once (its per-host and cluster-wide limits).
/// </summary>
internal static class DrainCommand
{
    public static Command Create(CommonOptions options)
    {
        var host = new Argument<string>("HOST") { Description = "The host to empty: name or id" };
        var policy = new PolicyOptions();
        var failOnSla = CommonOptions.FailOnSla();
        var command = new Command("drain", "Move every guest off a host (the scheduler picks targets and paces them), one progress line per guest") { host };
        policy.AddTo(command);
        command.Options.Add(failOnSla);
        command.Run(options, async (parse, session, ct) =>
        {
            var drained = await session.Client.PostAsync($"/api/v1/hosts/{Uri.EscapeDataString(parse.GetValue(host)!)}/drain", null,
                MigrateCommand.NewIdempotencyKey(), ct);
            var hostName = RestJson.To<HostDocument>(drained).Name;
            var guests = await session.Client.ListAsync($"/api/v1/guests?host={Uri.EscapeDataString(hostName)}", int.MaxValue, ct)
                .Select(RestJson.To<GuestDocument>).ToListAsync(ct);
            var view = new FleetView(session.Terminal.Console.Profile.Capabilities.Unicode);
            var started = new List<(FleetRow Row, JsonElement Migration)>();
            foreach (var guest in guests)
            {
                var row = view.Row(guest.Name, guest.Name);
                if (await StartAsync(session, guest.Name, hostName, policy.Read(parse), row, ct) is { } migration)
                {
                    row.Migration = MigrationDocument.From(migration);
                    started.Add((row, migration));
                }
            }

            var finals = await FollowAllAsync(session, view, started, ct);
            var failOnSlaValue = parse.GetValue(failOnSla);
            if (session.Json)
            {
                session.Terminal.WriteJson(new
                {
                    host = drained,
                    migrations = finals,
                    refused = view.Rows.Where(r => r.Note is not null).Select(r => new { guest = r.Guest, reason = r.Note }),
                });
            }
            else
            {
                if (!session.Terminal.IsLive)
                {
                    session.Terminal.Console.Write(view.Render());
                }

                var moved = view.Rows.Count(r => r.Migration?.State == MigrationStates.Completed);
                session.Terminal.WriteLine(guests.Count == 0
                    ? $"{hostName} is draining and has no guests"
                    : $"{hostName} is draining: {moved} of {guests.Count} guests moved");
            }

            var failed = view.Rows.Any(r => r.Migration is not { } m || MigrationFollower.ExitCode(m, failOnSlaValue) != ExitCodes.Success);
            return failed ? ExitCodes.MigrationFailed : ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// Asks for the guest's migration; a guest that already moves off this host (409) is followed in that
    /// migration. Null, with the API's reason on the row, when the API refused it.
    /// </summary>
    private static async Task<JsonElement?> StartAsync(CliSession session, string guest, string host, object? policy, FleetRow row, CancellationToken ct)
    {
        try
        {
            return await session.Client.PostAsync("/api/v1/migrations", new { guest, policy }, MigrateCommand.NewIdempotencyKey(), ct);
        }
        catch (CommandFailure e) when (e.Status is { } status)
        {
            if (status == HttpStatusCode.Conflict)
            {
                await foreach (var m in session.Client.ListAsync($"/api/v1/migrations?guest={Uri.EscapeDataString(guest)}", 10, ct))
                {
                    var document = MigrationDocument.From(m);
                    if (!document.IsTerminal && document.SourceHost == host)
                    {
                        return m;
                    }
                }
            }

            row.Note = e.Message;
            return null;
        }
    }

    /// <summary>Follows every migration at once, redrawing (or printing a line) whenever one changes; their final JSON, in order.</summary>
    private static async Task<List<JsonElement>> FollowAllAsync(CliSession session, FleetView view, List<(FleetRow Row, JsonElement Migration)> started,
        CancellationToken ct)
    {
        var changes = Channel.CreateUnbounded<FleetRow>();
        var followers = started.Select(async s =>
        {
            var id = MigrationDocument.From(s.Migration).Id;
            var (samples, _) = await session.Feeds.FollowAsync(ProgressScope.Of(id), ct);
            await foreach (var sample in samples.WithCancellation(ct))
            {
                s.Row.Sample = sample.KeepFigures(s.Row.Sample);
                changes.Writer.TryWrite(s.Row);
            }

            var final = await session.Client.GetAsync(ProgressScope.Of(id).ResourcePath, ct);
            s.Row.Migration = MigrationDocument.From(final);
            changes.Writer.TryWrite(s.Row);
            return final;
        }).ToList();
        var all = Task.WhenAll(followers);
        _ = all.ContinueWith(_ => changes.Writer.Complete(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        try
        {
            if (session.Json)
            {
                return [.. await all];
            }

            if (session.Terminal.IsLive)
            {
                await session.Terminal.Console.Live(view.Render()).AutoClear(false).StartAsync(async live =>
                {
                    // Spectre draws a live display only on Refresh or UpdateTarget: without this the screen stayed
                    // blank until the first change (a queued migration: for as long as it waited; seen in Cli.Tests).
                    live.Refresh();
                    await foreach (var _ in changes.Reader.ReadAllAsync(ct))
                    {
                        live.UpdateTarget(view.Render());
                    }
                });
            }
            else
            {
                foreach (var row in view.Rows)
                {
                    session.Terminal.WriteLine(row.Line());
                }

                var last = new Dictionary<FleetRow, string>();
                await foreach (var row in changes.Reader.ReadAllAsync(ct))
                {
                    var line = row.Line();
                    if (!last.TryGetValue(row, out var before) || before != line)
                    {
                        last[row] = line;
                        session.Terminal.WriteLine(line);
                    }
                }
            }

            return [.. await all];
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw new CommandFailure(ExitCodes.Interrupted, "stopped watching; the drain's migrations go on (ferry watch --host HOST)");
        }
    }
}
