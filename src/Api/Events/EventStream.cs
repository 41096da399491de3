using System.Globalization;
using Ferry.Api.Persistence;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;

namespace Ferry.Api.Events;

/// <summary>
/// Writes one Server-Sent Events response: reads the log after the last position sent, writes and flushes,
/// then waits for a pulse of <see cref="EventSignal"/>, the poll interval or the keepalive, whichever
/// comes first. Ends when the client goes, the API stops, or (for one migration) after its result.
/// </summary>
internal sealed partial class EventStream(HttpContext http, EventSignal signal, TimeProvider time, EventOptions options,
    IHostApplicationLifetime lifetime, ILogger logger)
{
    public delegate Task<List<MigrationEvent>> ReadAfter(long after, CancellationToken ct);

    /// <summary>Streams the log from after <paramref name="after"/>.</summary>
    public async Task RunAsync(long after, ReadAfter read, bool endsWithResult, CancellationToken requestAborted)
    {
        // A stream lives until its client leaves; the API's stopping ends it too, or shutdown would wait for every client.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        var ct = stopping.Token;
        try
        {
            // Read before the headers go: once a client sees them, its keepalive is counted from no later than that.
            var lastWrite = time.GetUtcNow();
            await StartAsync(ct);
            while (true)
            {
                // Taken before the read: a commit between the read and the wait still wakes this stream.
                var wake = signal.Next;
                var batch = await read(after, ct);
                foreach (var e in batch)
                {
                    await WriteAsync(e, ct);
                    after = e.Position!.Value;
                    if (endsWithResult && e.Kind == MigrationEventKinds.Result)
                    {
                        await http.Response.Body.FlushAsync(ct);
                        return;
                    }
                }

                var now = time.GetUtcNow();
                if (batch.Count > 0)
                {
                    await http.Response.Body.FlushAsync(ct);
                    lastWrite = now;
                    continue;
                }

                var keepAliveDue = lastWrite + options.KeepAlive;
                if (now >= keepAliveDue)
                {
                    await http.Response.WriteAsync(": keepalive\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                    lastWrite = now;
                    continue;
                }

                var wait = keepAliveDue - now < options.PollInterval ? keepAliveDue - now : options.PollInterval;
                using var waited = CancellationTokenSource.CreateLinkedTokenSource(ct);
                await Task.WhenAny(wake, Task.Delay(wait, time, waited.Token));
                await waited.CancelAsync();
                ct.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client left or the API is stopping.
        }
        catch (IOException e)
        {
            // The client's connection broke while writing.
            LogClientGone(logger, http.Request.Path, e.Message);
        }
        catch (NpgsqlException e)
        {
            // The response has begun, so no problem can be sent: end it; the client resumes with Last-Event-ID.
            LogReadFailed(logger, http.Request.Path, e.Message);
        }
    }

    /// <summary>Writes <paramref name="events"/> as they are (no log read) and ends.</summary>
    public async Task RunAsync(IReadOnlyList<MigrationEvent> events, CancellationToken ct)
    {
        await StartAsync(ct);
        foreach (var e in events)
        {
            await WriteAsync(e, ct);
        }

        await http.Response.Body.FlushAsync(ct);
    }

    private async Task StartAsync(CancellationToken ct)
    {
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // nginx (and ingress controllers built on it) buffer responses unless told not to.
        response.Headers["X-Accel-Buffering"] = "no";
        // Each event must leave when it is flushed, not when a buffer fills.
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.StartAsync(ct);
        await response.Body.FlushAsync(ct);
    }

    private Task WriteAsync(MigrationEvent e, CancellationToken ct) =>
        // Data is one line: JSON from System.Text.Json without indentation, strings escaped.
        http.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"id: {e.Position}\nevent: {e.Kind}\ndata: {e.Data}\n\n"), ct);

    [LoggerMessage(EventId = ApiEventIds.EventStreamClientGone, Level = LogLevel.Debug, Message = "Event stream {Path} ended: the client's connection broke ({Reason})")]
    private static partial void LogClientGone(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = ApiEventIds.EventStreamReadFailed, Level = LogLevel.Warning, Message = "Event stream {Path} ended: reading the event log failed ({Reason}); the client resumes with Last-Event-ID")]
    private static partial void LogReadFailed(ILogger logger, string path, string reason);
}
