namespace Ferry.Cli.Progress;

/// <summary>
/// Picks the feed <c>--feed</c> asks for: the event stream, polling, or (auto) the event stream where the
/// API serves it and polling where it does not (asked once per run: an API predating the stream answers 404).
/// </summary>
internal sealed class ProgressFeeds(IProgressFeed events, IProgressFeed polling, string mode, Uri api)
{
    public const string Auto = "auto";
    public const string Events = "events";
    public const string Polling = "polling";

    private volatile bool _eventsUnserved = mode == Polling;

    public async Task<(IAsyncEnumerable<ObservedProgress> Samples, string Source)> FollowAsync(ProgressScope scope, CancellationToken ct)
    {
        if (!_eventsUnserved)
        {
            if (await events.TryFollowAsync(scope, ct) is { } samples)
            {
                return (samples, events.Description);
            }

            if (mode == Events)
            {
                throw new CommandFailure(ExitCodes.ApiUnavailable,
                    $"the API at {api} serves no event stream at {scope.EventsPath} (an older API?); --feed auto falls back to polling");
            }

            _eventsUnserved = true;
        }

        return (await polling.TryFollowAsync(scope, ct) ?? throw new InvalidOperationException("polling follows any migration"), polling.Description);
    }
}
