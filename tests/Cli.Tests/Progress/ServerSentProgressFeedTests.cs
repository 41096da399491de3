using Ferry.Cli.Progress;
using Ferry.Cli.Rest;
using Ferry.Cli.Tests.Support;

namespace Ferry.Cli.Tests.Progress;

/// <summary>The event-stream feed against a stream server that follows issue 14's contract, cuts included.</summary>
public sealed class ServerSentProgressFeedTests : IAsyncLifetime
{
    private readonly EventStreamServer _server = new();
    private FerryClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await _server.StartAsync();
        _client = new FerryClient(new Uri(_server.Url + "/"), new CliApiKey(null, "nowhere"));
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_cut_stream_is_resumed_after_the_last_event_seen_and_nothing_is_lost_or_repeated()
    {
        var feed = new ServerSentProgressFeed(_client, TimeProvider.System);
        _server.State("queued");
        _server.State("running");
        _server.Progress(pass: 1, transferred: 64 << 20, remaining: 192 << 20, 1200, 900);

        var samples = await feed.TryFollowAsync(ProgressScope.Of(_server.MigrationId), Ct);
        Assert.NotNull(samples);
        var seen = new List<ObservedProgress>();
        await using var reader = samples.GetAsyncEnumerator(Ct);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await reader.MoveNextAsync());
            seen.Add(reader.Current);
        }

        _server.Cut();
        _server.Garbage();
        _server.Progress(pass: 2, transferred: 250 << 20, remaining: 6 << 20, 300, 950);
        _server.State("switchingOver");
        _server.State("completed", EventStreamServer.CompletedResult(400, 4, slaMet: true));
        while (await reader.MoveNextAsync())
        {
            seen.Add(reader.Current);
        }

        Assert.Equal(["queued", "running", "running", "running", "switchingOver", "completed"], seen.Select(s => s.State));
        Assert.Equal([null, null, 1, 2, null, null], seen.Select(s => s.Pass));
        Assert.Equal(0.25, seen[2].TransferredFraction);
        Assert.Equal(3.5, seen[3].ExpectedDowntimeMs);
        Assert.All(seen, s => Assert.Equal(_server.MigrationId, s.MigrationId));
        // The second connection asked to resume after the third event, the last one read before the cut.
        Assert.Equal(["", "3"], _server.Connections);
    }

    [Fact]
    public async Task An_API_without_the_stream_is_told_apart_from_a_refusal()
    {
        await using var old = new EventStreamServer { ServesEvents = false };
        await old.StartAsync();
        using var client = new FerryClient(new Uri(old.Url + "/"), new CliApiKey(null, "nowhere"));

        var unserved = await new ServerSentProgressFeed(client, TimeProvider.System).TryFollowAsync(ProgressScope.Of(old.MigrationId), Ct);

        Assert.Null(unserved);
    }

    [Fact]
    public void A_state_event_keeps_the_transfer_figures_of_the_progress_before_it()
    {
        var id = Guid.NewGuid();
        var progress = new ObservedProgress(id, "running", 2, 10, 90, 300, 950, 3, DateTimeOffset.UnixEpoch);
        var state = new ObservedProgress(id, "switchingOver", null, null, null, null, null, null, DateTimeOffset.UnixEpoch);

        var kept = state.KeepFigures(progress);

        Assert.Equal("switchingOver", kept.State);
        Assert.Equal(0.9, kept.TransferredFraction);
        Assert.Equal(2, kept.Pass);
        Assert.Same(state, state.KeepFigures(progress with { MigrationId = Guid.NewGuid() }));
    }
}
