using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace Ferry.Api.Tests.Support;

/// <summary>One Server-Sent Event as it came over the wire; <see cref="Comment"/> is set for comment lines (keepalives).</summary>
public sealed record ServerSentEvent(long? Id, string? Kind, string? Data, string? Comment = null)
{
    public JsonObject Json => JsonNode.Parse(Data!)!.AsObject();

    public string? State => Kind is null ? null : Json["state"]!.GetValue<string>();
}

/// <summary>Reads a <c>text/event-stream</c> response line by line, as a browser's EventSource would.</summary>
public sealed class EventStreamReader(HttpResponseMessage response, StreamReader reader) : IAsyncDisposable
{
    /// <summary>How long a read may wait before the test fails instead of hanging (not a timing assertion).</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    public HttpResponseMessage Response => response;

    /// <summary>Opens <paramref name="path"/>; the response must be an event stream.</summary>
    public static async Task<EventStreamReader> OpenAsync(HttpClient client, string path, long? lastEventId = null, string? apiKey = null)
    {
        var response = await SendAsync(client, path, lastEventId, apiKey);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
        return new EventStreamReader(response, new StreamReader(body));
    }

    /// <summary>Sends the request only (for the status of refused or empty streams).</summary>
    public static Task<HttpResponseMessage> SendAsync(HttpClient client, string path, long? lastEventId = null, string? apiKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new("text/event-stream"));
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
        }

        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        return client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
    }

    /// <summary>The next event (or comment, when asked for); null once the server closed the stream.</summary>
    public async Task<ServerSentEvent?> NextAsync(bool comments = false)
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        guard.CancelAfter(HangGuard);
        long? id = null;
        string? kind = null, data = null;
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(guard.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no event within {HangGuard.TotalSeconds} s");
            }

            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (kind is not null || data is not null)
                {
                    return new ServerSentEvent(id, kind, data);
                }

                continue;
            }

            if (line.StartsWith(':'))
            {
                if (comments)
                {
                    return new ServerSentEvent(null, null, null, line[1..].Trim());
                }

                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    id = long.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "event":
                    kind = value;
                    break;
                case "data":
                    Assert.Null(data); // one line of JSON per event
                    data = value;
                    break;
                default:
                    Assert.Fail($"unexpected field in the event stream: {line}");
                    break;
            }
        }
    }

    /// <summary>Reads <paramref name="count"/> events; fails if the stream closes before.</summary>
    public async Task<List<ServerSentEvent>> ReadAsync(int count)
    {
        var events = new List<ServerSentEvent>();
        while (events.Count < count)
        {
            events.Add(await NextAsync() ?? throw new InvalidOperationException($"the stream closed after {events.Count} events, {count} expected"));
        }

        return events;
    }

    /// <summary>Reads until the next event of <paramref name="kind"/> (included).</summary>
    public async Task<List<ServerSentEvent>> ReadThroughAsync(string kind, string? state = null)
    {
        var events = new List<ServerSentEvent>();
        while (true)
        {
            var e = await NextAsync() ?? throw new InvalidOperationException($"the stream closed before a {kind} event; got {string.Join(", ", events.Select(x => x.Kind))}");
            events.Add(e);
            if (e.Kind == kind && (state is null || e.State == state))
            {
                return events;
            }
        }
    }

    /// <summary>Reads until the server closes the stream.</summary>
    public async Task<List<ServerSentEvent>> ReadToEndAsync()
    {
        var events = new List<ServerSentEvent>();
        while (await NextAsync() is { } e)
        {
            events.Add(e);
        }

        return events;
    }

    public ValueTask DisposeAsync()
    {
        reader.Dispose();
        response.Dispose();
        return ValueTask.CompletedTask;
    }
}
