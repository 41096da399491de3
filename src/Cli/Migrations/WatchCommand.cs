using System.CommandLine;
using Ferry.Cli.Progress;
using Ferry.Cli.Rest;
using Spectre.Console;

namespace Ferry.Cli.Migrations;

/// <summary>
/// <c>ferry watch [MIGRATION]</c>: one migration live until it ends, or every migration (of a guest,
/// a host) until Ctrl-C.
/// </summary>
internal static class WatchCommand
{
    public static Command Create(CommonOptions options)
    {
        var id = new Argument<Guid?>("MIGRATION")
        {
            Description = "The migration to follow until it ends; without it, every migration until Ctrl-C",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var guest = new Option<string?>("--guest") { Description = "Without MIGRATION: only this guest's migrations", HelpName = "GUEST" };
        var host = new Option<string?>("--host") { Description = "Without MIGRATION: only migrations from or to this host", HelpName = "HOST" };
        var failOnSla = CommonOptions.FailOnSla();
        var command = new Command("watch", "Follow migrations live: phase, pass, transferred and remaining, dirty rate, throughput, then the result")
        {
            id, guest, host, failOnSla,
        };
        command.Run(options, async (parse, session, ct) =>
        {
            if (parse.GetValue(id) is { } migrationId)
            {
                var follower = new MigrationFollower(session);
                var migration = await session.Client.GetAsync(ProgressScope.Of(migrationId).ResourcePath, ct);
                return follower.Report(await follower.FollowAsync(migration, ct), parse.GetValue(failOnSla));
            }

            return await WatchEveryAsync(session, new ProgressScope(null, parse.GetValue(guest), parse.GetValue(host)), ct);
        });
        return command;
    }

    /// <summary>Until Ctrl-C, the ordinary way to end it (exit 0). JSON: one sample per line.</summary>
    private static async Task<int> WatchEveryAsync(CliSession session, ProgressScope scope, CancellationToken ct)
    {
        try
        {
            var (samples, source) = await session.Feeds.FollowAsync(scope, ct);
            if (session.Json)
            {
                await foreach (var sample in samples.WithCancellation(ct))
                {
                    session.Terminal.WriteJsonLine(sample);
                }

                return ExitCodes.Success;
            }

            var view = new FleetView(session.Terminal.Console.Profile.Capabilities.Unicode);
            var title = new Markup($"[grey]every migration{Markup.Escape(Filter(scope))} ({Markup.Escape(source)}); Ctrl-C ends[/]");
            if (session.Terminal.IsLive)
            {
                await session.Terminal.Console.Live(new Rows(title, view.Render())).AutoClear(false).StartAsync(async live =>
                {
                    // Spectre draws a live display only on Refresh or UpdateTarget: without this the screen stayed
                    // blank until the first change (a queued migration: for as long as it waited; seen in Cli.Tests).
                    live.Refresh();
                    await foreach (var sample in samples.WithCancellation(ct))
                    {
                        await TrackAsync(session, view, sample, ct);
                        live.UpdateTarget(new Rows(title, view.Render()));
                    }
                });
            }
            else
            {
                session.Terminal.WriteLine($"watching every migration{Filter(scope)} ({source}); Ctrl-C ends");

                // A line per change: a migration's end comes as its last state and as its result, which read the same.
                var last = new Dictionary<Guid, string>();
                await foreach (var sample in samples.WithCancellation(ct))
                {
                    var line = (await TrackAsync(session, view, sample, ct)).Line();
                    if (last.TryGetValue(sample.MigrationId, out var previous) && previous == line)
                    {
                        continue;
                    }

                    last[sample.MigrationId] = line;
                    session.Terminal.WriteLine(line);
                    await session.Terminal.Output.FlushAsync(ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        return ExitCodes.Success;
    }

    /// <summary>Puts <paramref name="sample"/> on its row; reads the migration when it is new (its guest and route) and when it ended (its result).</summary>
    private static async Task<FleetRow> TrackAsync(CliSession session, FleetView view, ObservedProgress sample, CancellationToken ct)
    {
        var key = sample.MigrationId.ToString();
        var path = ProgressScope.Of(sample.MigrationId).ResourcePath;
        var migration = view.Contains(key) ? null : MigrationDocument.From(await session.Client.GetAsync(path, ct));
        var row = view.Row(key, migration?.Guest ?? "");
        row.Migration ??= migration;
        row.Sample = sample.KeepFigures(row.Sample);
        if (sample.IsTerminal && row.Migration is not { IsTerminal: true })
        {
            row.Migration = MigrationDocument.From(await session.Client.GetAsync(path, ct));
        }

        return row;
    }

    private static string Filter(ProgressScope scope) =>
        (scope.Guest is { } g ? $" of guest {g}" : "") + (scope.Host is { } h ? $" from or to host {h}" : "");
}
