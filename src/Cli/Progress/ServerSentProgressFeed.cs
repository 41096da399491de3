using System.Net;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Ferry.Cli.Rest;

namespace Ferry.Cli.Progress;

/// <summary>
/// Reads the API's Server-Sent Events (<c>GET /api/v1/migrations/{id}/events</c>, <c>GET /api/v1/events</c>):
/// each event's <c>data:</c> is a JSON sample. When the stream ends before the migration does (an API
/// restart, a proxy's idle timeout) it reconnects after the server's <c>retry:</c> with
/// <c>Last-Event-ID</c>, so the API resumes after the last event seen, without a gap.
/// </summary>
internal sealed class ServerSentProgressFeed(FerryClient client, TimeProvider time) : IProgressFeed
{
    /// <summary>Consecutive reconnects that may fail before the watch gives up.</summary>
    public const int MaxReconnects = 5;

    /// <summary>
    /// A stream silent this long is taken as broken and resumed: a connection cut without a FIN (a NAT
    /// entry dropped, a host gone) never ends a read by itself. A quiet but healthy stream (a migration
    /// queued behind others) only costs a reconnect that <c>Last-Event-ID</c> makes seamless.
    /// </summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(45);

    private static readonly TimeSpan DefaultRetry = TimeSpan.FromSeconds(1);

    public string Description => "event stream";

    public async Task<IAsyncEnumerable<ObservedProgress>?> TryFollowAsync(ProgressScope scope, CancellationToken ct)
    {
        var response = await client.OpenEventStreamAsync(scope.EventsPath, null, ct);
        if (IsEventStream(response))
        {
            return ReadAsync(scope, response, ct);
        }

        using (response)
        {
            // An API without the stream routes the path nowhere (404), or to something that is not a stream.
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented
                || response.IsSuccessStatusCode)
            {
                return null;
            }

            throw await client.RefusalAsync(response, ct);
        }
    }

    private async IAsyncEnumerable<ObservedProgress> ReadAsync(ProgressScope scope, HttpResponseMessage first, [EnumeratorCancellation] CancellationToken ct)
    {
        var response = first;
        string? lastEventId = null;
        var retry = DefaultRetry;
        try
        {
            while (true)
            {
                var stream = await response.Content.ReadAsStreamAsync(ct);
                var parser = SseParser.Create(stream);
                using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
                using var reading = CancellationTokenSource.CreateLinkedTokenSource(ct, idle.Token);
                await using (var items = parser.EnumerateAsync(reading.Token).GetAsyncEnumerator(reading.Token))
                {
                    while (await NextAsync(items, idle, ct))
                    {
                        lastEventId = parser.LastEventId is { Length: > 0 } id ? id : lastEventId;
                        retry = parser.ReconnectionInterval is { } r && r > TimeSpan.Zero ? r : retry;
                        if (Sample(items.Current.Data, scope) is not { } sample)
                        {
                            continue;
                        }

                        yield return sample;
                        if (scope.Migration is not null && sample.IsTerminal)
                        {
                            yield break;
                        }
                    }
                }

                response.Dispose();
                var reconnected = await ReconnectAsync(scope, lastEventId, retry, ct);
                if (reconnected is null)
                {
                    yield break;
                }

                response = reconnected;
            }
        }
        finally
        {
            response.Dispose();
        }
    }

    /// <summary>
    /// The next event, or false when the stream ended, broke or stayed silent past <see cref="IdleTimeout"/>
    /// (each is resumed like an ended one).
    /// </summary>
    private static async Task<bool> NextAsync(IAsyncEnumerator<SseItem<string>> items, CancellationTokenSource idle, CancellationToken ct)
    {
        idle.CancelAfter(IdleTimeout);
        try
        {
            return await items.MoveNextAsync();
        }
        catch (Exception e) when (e is IOException or HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>A new stream that resumes after <paramref name="lastEventId"/>; null when the server says it is over (204).</summary>
    private async Task<HttpResponseMessage?> ReconnectAsync(ProgressScope scope, string? lastEventId, TimeSpan retry, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await Task.Delay(retry, time, ct);
            HttpResponseMessage response;
            try
            {
                response = await client.OpenEventStreamAsync(scope.EventsPath, lastEventId, ct);
            }
            catch (CommandFailure) when (attempt < MaxReconnects)
            {
                continue;
            }

            if (response.StatusCode == HttpStatusCode.NoContent)
            {
                response.Dispose();
                return null;
            }

            if (IsEventStream(response))
            {
                return response;
            }

            using (response)
            {
                if (attempt >= MaxReconnects)
                {
                    throw await client.RefusalAsync(response, ct);
                }
            }
        }
    }

    private static bool IsEventStream(HttpResponseMessage response) =>
        response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType == "text/event-stream";

    /// <summary>The sample an event's data holds; null for data that is not one (a keep-alive, malformed JSON).</summary>
    private static ObservedProgress? Sample(string data, ProgressScope scope)
    {
        try
        {
            using var json = JsonDocument.Parse(data);
            return ObservedProgress.FromEvent(json.RootElement, scope.Migration);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
