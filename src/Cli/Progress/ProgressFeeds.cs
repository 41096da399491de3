namespace Ferry.Cli.Progress;

/// <summary>The event stream where the API serves it, polling where it does not (asked once per run).</summary>
internal sealed class ProgressFeeds(IProgressFeed events, IProgressFeed polling)
{
    private volatile bool _eventsUnserved;

    public async Task<(IAsyncEnumerable<ProgressSample> Samples, string Source)> FollowAsync(ProgressScope scope, CancellationToken ct)
    {
        if (!_eventsUnserved)
        {
            if (await events.TryFollowAsync(scope, ct) is { } samples)
            {
                return (samples, events.Description);
            }

            _eventsUnserved = true;
        }

        return (await polling.TryFollowAsync(scope, ct) ?? throw new InvalidOperationException("polling follows any migration"), polling.Description);
    }
}
