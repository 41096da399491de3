using System.Text.Json;
using Ferry.Cli.Progress;
using Ferry.Cli.Rest;
using Spectre.Console;

namespace Ferry.Cli.Migrations;

/// <summary>
/// Follows one migration to its end (<c>migrate --wait</c>, <c>watch MIGRATION</c>): a live display on
/// a terminal, a line per change on other table output, silence for JSON; then reads the migration
/// once more for its result.
/// </summary>
internal sealed class MigrationFollower(CliSession session)
{
    /// <summary>The migration as it ended (the API's JSON).</summary>
    public async Task<JsonElement> FollowAsync(JsonElement migration, CancellationToken ct)
    {
        var document = MigrationDocument.From(migration);
        if (document.IsTerminal)
        {
            return migration;
        }

        try
        {
            var (samples, source) = await session.Feeds.FollowAsync(ProgressScope.Of(document.Id), ct);
            var view = new MigrationProgressView(document, source, session.Terminal.Console.Profile.Capabilities.Unicode);
            if (session.Json)
            {
                await foreach (var _ in samples.WithCancellation(ct))
                {
                }
            }
            else if (session.Terminal.IsLive)
            {
                await session.Terminal.Console.Live(view.Render()).AutoClear(false).StartAsync(async live =>
                {
                    // Spectre draws a live display only on Refresh or UpdateTarget: without this the screen stayed
                    // blank until the first change (a queued migration: for as long as it waited; seen in Cli.Tests).
                    live.Refresh();
                    await foreach (var sample in samples.WithCancellation(ct))
                    {
                        if (view.Add(sample))
                        {
                            live.UpdateTarget(view.Render());
                        }
                    }
                });
            }
            else
            {
                session.Terminal.WriteLine($"following migration {document.Id} ({source})");
                await foreach (var sample in samples.WithCancellation(ct))
                {
                    if (view.Add(sample))
                    {
                        session.Terminal.WriteLine(view.Line());
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw new CommandFailure(ExitCodes.Interrupted,
                $"stopped watching; migration {document.Id} goes on (ferry watch {document.Id}, ferry cancel {document.Id})");
        }

        return await session.Client.GetAsync(ProgressScope.Of(document.Id).ResourcePath, ct);
    }

    /// <summary>Prints how <paramref name="migration"/> ended and returns the exit code that means.</summary>
    public int Report(JsonElement migration, bool failOnSla)
    {
        var document = MigrationDocument.From(migration);
        if (session.Json)
        {
            session.Terminal.WriteJson(migration);
        }
        else
        {
            session.Terminal.Console.Write(MigrationTables.Result(document));
        }

        return ExitCode(document, failOnSla);
    }

    /// <summary>0 when it completed (within its SLA, when <paramref name="failOnSla"/>), else 1.</summary>
    public static int ExitCode(MigrationDocument migration, bool failOnSla) => migration.State switch
    {
        MigrationStates.Completed when failOnSla && migration.Result?.SlaMet != true => ExitCodes.MigrationFailed,
        MigrationStates.Completed => ExitCodes.Success,
        _ => ExitCodes.MigrationFailed,
    };
}
