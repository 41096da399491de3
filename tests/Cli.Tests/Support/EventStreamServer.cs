using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Tests.Support;

/// <summary>
/// A stand-in for the API's event stream (issue 14 §1: <c>GET /api/v1/migrations/{id}/events</c>,
/// text/event-stream, <c>id:</c> in order, <c>event:</c> state/progress/result, <c>Last-Event-ID</c>
/// resumes), for one migration whose events the test publishes one by one. It can cut a stream
/// mid-way (what a restarted API replica or a proxy does) and records what each reconnect asked
/// for. <c>GET /api/v1/migrations/{id}</c> answers the migration as it stands.
/// </summary>
public sealed class EventStreamServer : IAsyncDisposable
{
    private readonly List<(long Id, string Type, string Data)> _events = [];
    private TaskCompletionSource _published = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource _connection = new();
    private WebApplication? _app;

    public EventStreamServer() => Migration = Document(MigrationId, "queued");

    public Guid MigrationId { get; } = Guid.CreateVersion7();

    public string Url { get; private set; } = "";

    /// <summary>False: the events path answers 404, as an API from before the stream does.</summary>
    public bool ServesEvents { get; init; } = true;

    /// <summary>What <c>GET /api/v1/migrations/{id}</c> answers.</summary>
    public JsonObject Migration { get; private set; }

    /// <summary>The <c>Last-Event-ID</c> of each connection to the stream, "" when it had none.</summary>
    public ConcurrentQueue<string> Connections { get; } = new();

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.Sources.Clear();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        _app = builder.Build();
        _app.MapGet("/api/v1/migrations/{id:guid}", (Guid id) => id == MigrationId ? Results.Text(Migration.ToJsonString(), "application/json") : Results.NotFound());
        _app.MapGet("/api/v1/migrations/{id:guid}/events", StreamAsync);
        await _app.StartAsync();
        Url = _app.Urls.Single();
    }

    /// <summary>A state change: the migration becomes <paramref name="state"/> and its JSON is the event's data.</summary>
    public void State(string state, JsonObject? result = null, string? failureReason = null)
    {
        Migration = Document(MigrationId, state, result, failureReason);
        Publish(result is null && failureReason is null ? "state" : "result", Migration.ToJsonString());
    }

    public void Progress(int pass, long transferred, long remaining, double dirtyPagesPerSecond, double throughputMbps) =>
        Publish("progress", new JsonObject
        {
            ["migrationId"] = MigrationId.ToString(), ["state"] = "running", ["pass"] = pass, ["remainingBytes"] = remaining,
            ["transferredBytes"] = transferred, ["dirtyPagesPerSecond"] = dirtyPagesPerSecond, ["throughputMbps"] = throughputMbps,
            ["expectedDowntimeMs"] = 3.5, ["at"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        }.ToJsonString());

    /// <summary>An event whose data is not a sample (a client must skip it, not die of it).</summary>
    public void Garbage() => Publish("progress", "{not json");

    /// <summary>Cuts the open stream without a word, as a dead replica or a proxy does.</summary>
    public void Cut()
    {
        var old = Interlocked.Exchange(ref _connection, new CancellationTokenSource());
        old.Cancel();
    }

    public async ValueTask DisposeAsync()
    {
        _connection.Cancel();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    public static JsonObject CompletedResult(double totalMs, double downtimeMs, bool slaMet) => new()
    {
        ["transport"] = "native", ["totalTimeMs"] = totalMs, ["downtimeMs"] = downtimeMs, ["setupTimeMs"] = 3, ["operationTimeMs"] = totalMs + 40,
        ["bytesTransferred"] = 268435456, ["zeroPages"] = 60000, ["normalPages"] = 5536, ["passes"] = 2, ["dirtyPagesPerSecond"] = 1200,
        ["throughputMbps"] = 9400, ["slaMet"] = slaMet,
    };

    private void Publish(string type, string data)
    {
        lock (_events)
        {
            _events.Add((_events.Count + 1, type, data));
        }

        Interlocked.Exchange(ref _published, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private async Task StreamAsync(HttpContext http, Guid id)
    {
        if (!ServesEvents || id != MigrationId)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var lastEventId = http.Request.Headers["Last-Event-ID"].ToString();
        Connections.Enqueue(lastEventId);
        var next = lastEventId.Length == 0 ? 1 : long.Parse(lastEventId, CultureInfo.InvariantCulture) + 1;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _connection.Token);
        http.Response.ContentType = "text/event-stream";
        await http.Response.WriteAsync("retry: 50\n\n", stop.Token);
        await http.Response.Body.FlushAsync(stop.Token);
        try
        {
            while (true)
            {
                var published = _published.Task;
                List<(long Id, string Type, string Data)> pending;
                lock (_events)
                {
                    pending = _events.Where(e => e.Id >= next).ToList();
                }

                foreach (var e in pending)
                {
                    await http.Response.WriteAsync($"id: {e.Id}\nevent: {e.Type}\ndata: {e.Data}\n\n", stop.Token);
                    next = e.Id + 1;
                    if (e.Type == "result")
                    {
                        await http.Response.Body.FlushAsync(stop.Token);
                        return;
                    }
                }

                await http.Response.Body.FlushAsync(stop.Token);
                await published.WaitAsync(stop.Token);
            }
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            http.Abort();
        }
    }

    private static JsonObject Document(Guid id, string state, JsonObject? result = null, string? failureReason = null) => new()
    {
        ["id"] = id.ToString(), ["guest"] = "vnf-7", ["sourceHost"] = "host-a", ["targetHost"] = "host-b", ["state"] = state,
        ["policy"] = new JsonObject { ["maxDowntimeMs"] = 10, ["maxTotalTimeMs"] = 2000, ["transport"] = "native" },
        ["createdAt"] = "2026-12-07T01:00:00+00:00", ["updatedAt"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        ["timeline"] = new JsonArray(), ["result"] = result, ["failureReason"] = failureReason, ["guestOnTarget"] = state == "completed",
    };
}
