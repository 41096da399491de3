using System.Runtime.CompilerServices;
using Ferry.Cli.Rest;

namespace Ferry.Cli.Progress;

/// <summary>
/// Follows migrations by reading them again and again (<c>GET /api/v1/migrations/{id}</c>, or the list
/// for every migration): for an API without the event stream. Yields a sample when something changed.
/// </summary>
internal sealed class PollingProgressFeed(FerryClient client, TimeProvider time) : IProgressFeed
{
    /// <summary>How often one migration is read: the event stream's pace (issue 14 §1).</summary>
    public static readonly TimeSpan OneMigration = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a watch of every migration reads the list (a page of them, each with its timeline).</summary>
    public static readonly TimeSpan Fleet = TimeSpan.FromSeconds(1);

    /// <summary>How many of the newest migrations a watch of all of them reads each time.</summary>
    public const int FleetPage = 100;

    public string Description => "polling";

    public Task<IAsyncEnumerable<ObservedProgress>?> TryFollowAsync(ProgressScope scope, CancellationToken ct) =>
        Task.FromResult<IAsyncEnumerable<ObservedProgress>?>(scope.Migration is { } id ? OneAsync(id, ct) : FleetAsync(scope, ct));

    private async IAsyncEnumerable<ObservedProgress> OneAsync(Guid id, [EnumeratorCancellation] CancellationToken ct)
    {
        ObservedProgress? last = null;
        while (true)
        {
            var sample = ObservedProgress.FromMigration(await client.GetAsync(ProgressScope.Of(id).ResourcePath, ct));
            if (last is null || last.Timeless != sample.Timeless)
            {
                last = sample;
                yield return sample;
            }

            if (sample.IsTerminal)
            {
                yield break;
            }

            await Task.Delay(OneMigration, time, ct);
        }
    }

    /// <summary>The newest migrations: those running when the watch starts, then every change (new ones, and how they end).</summary>
    private async IAsyncEnumerable<ObservedProgress> FleetAsync(ProgressScope scope, [EnumeratorCancellation] CancellationToken ct)
    {
        var known = new Dictionary<Guid, ObservedProgress>();
        for (var first = true; ; first = false)
        {
            await foreach (var item in client.ListAsync(scope.ResourcePath, FleetPage, ct))
            {
                var sample = ObservedProgress.FromMigration(item);
                if (known.TryGetValue(sample.MigrationId, out var before) && before.Timeless == sample.Timeless)
                {
                    continue;
                }

                known[sample.MigrationId] = sample;
                if (!(first && sample.IsTerminal))
                {
                    yield return sample;
                }
            }

            await Task.Delay(Fleet, time, ct);
        }
    }
}
