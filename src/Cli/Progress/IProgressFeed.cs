namespace Ferry.Cli.Progress;

/// <summary>
/// Where live progress comes from. Two implementations: the API's event stream
/// (<see cref="ServerSentProgressFeed"/>) and polling the migration (<see cref="PollingProgressFeed"/>),
/// for an API that does not serve the stream; <see cref="ProgressFeeds"/> picks.
/// </summary>
internal interface IProgressFeed
{
    /// <summary>How the samples arrive, for the operator: "event stream", "polling every 250 ms".</summary>
    string Description { get; }

    /// <summary>
    /// Samples of what <paramref name="scope"/> covers, in order; for one migration they end with its
    /// terminal state. Null when the API does not serve this feed (an API that predates it).
    /// </summary>
    Task<IAsyncEnumerable<ObservedProgress>?> TryFollowAsync(ProgressScope scope, CancellationToken ct);
}
