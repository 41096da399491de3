using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ferry.Api.Tests.Support;

/// <summary>One request a receiver saw, and what it answered.</summary>
public sealed record ReceivedRequest(string Method, string Path, string? Authorization, string? Version, string? ContentType, string Body, int Answer)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();
}

/// <summary>
/// A subscriber as a MANO stack runs one: a real Kestrel server on loopback that records every request and
/// answers as the test tells it. It can be stopped (connection refused) and started again on the same port.
/// </summary>
public sealed class NotificationReceiver : IAsyncDisposable
{
    private WebApplication? _app;
    private int _port;

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>The status to answer a request with (may wait first); default 204 for everything.</summary>
    public Func<HttpRequest, Task<int>> Answer { get; set; } = _ => Task.FromResult(StatusCodes.Status204NoContent);

    public string Url(string path = "/callback") => $"http://127.0.0.1:{_port}{path}";

    /// <summary>The notifications answered 2xx, in the order they were answered.</summary>
    public List<JsonObject> Delivered(string? path = null) => Requests
        .Where(r => r.Method == "POST" && r.Answer is >= 200 and < 300 && (path is null || r.Path == path) && r.Path != "/token")
        .Select(r => r.Json).ToList();

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.Sources.Clear();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, _port, o => o.Protocols = HttpProtocols.Http1));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        _app = builder.Build();
        _app.Run(async http =>
        {
            // Buffered, so that an answer may read the body again (a token endpoint reads its form).
            http.Request.EnableBuffering();
            var body = await new StreamReader(http.Request.Body, leaveOpen: true).ReadToEndAsync(http.RequestAborted);
            http.Request.Body.Position = 0;
            var status = await Answer(http.Request);
            Requests.Enqueue(new ReceivedRequest(http.Request.Method, http.Request.Path, http.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null,
                http.Request.Headers["Version"].ToString() is { Length: > 0 } v ? v : null, http.Request.ContentType, body, status));
            http.Response.StatusCode = status;
            if (http.Items.TryGetValue("body", out var reply) && reply is string text)
            {
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(text, http.RequestAborted);
            }
        });
        await _app.StartAsync();
        _port = new Uri(_app.Urls.Single()).Port;
    }

    /// <summary>Stops listening: connections are refused until <see cref="StartAsync"/> again.</summary>
    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
            _app = null;
        }
    }

    /// <summary>Waits until <paramref name="done"/> holds; fails loudly with what was received if it never does.</summary>
    public async Task WaitFor(Func<NotificationReceiver, bool> done, string what, Func<Task>? eachRound = null, int seconds = 60)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!done(this))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The receiver never saw {what}; it saw: {string.Join("\n", Requests.Select(r => $"{r.Method} {r.Path} -> {r.Answer} {r.Body}"))}");
            }

            if (eachRound is not null)
            {
                await eachRound();
            }

            await Task.Delay(20);
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
