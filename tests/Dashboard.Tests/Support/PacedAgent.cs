using System.Collections.Concurrent;
using System.Net;
using Ferry.Contracts;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ferry.Dashboard.Tests.Support;

/// <summary>
/// A host agent over real gRPC whose migrations report what the test says, when it says it: the page
/// is looked at while a migration is held in a phase. Only the agent is fake; the API, its database
/// and the event stream the page reads are real.
/// </summary>
public sealed class PacedAgent : AgentService.AgentServiceBase, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, PacedRun> _runs = new();
    private WebApplication? _app;

    public string Endpoint { get; private set; } = "";

    /// <summary>The run of <paramref name="migrationId"/>, created when the test or the API asks first.</summary>
    public PacedRun Run(string migrationId) => _runs.GetOrAdd(migrationId, id => new PacedRun(id));

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // The test's output folder holds the API's appsettings.json; its Kestrel endpoints are not this server's.
        builder.Configuration.Sources.Clear();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        builder.Services.AddSingleton(this);
        _app = builder.Build();
        _app.MapGrpcService<PacedAgent>();
        await _app.StartAsync();
        Endpoint = _app.Urls.Single();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var run in _runs.Values)
        {
            run.Frames.Writer.TryComplete();
        }

        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    public override Task<PrepareIncomingReply> PrepareIncoming(PrepareIncomingRequest request, ServerCallContext context) =>
        Task.FromResult(new PrepareIncomingReply { Address = "10.0.0.2", Port = 4444, Transport = Transport.Qemu });

    public override async Task Migrate(MigrateRequest request, IServerStreamWriter<MigrationProgress> responseStream, ServerCallContext context)
    {
        var run = Run(request.MigrationId);
        run.Started.TrySetResult();
        await foreach (var frame in run.Frames.Reader.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(frame);
        }
    }

    public override Task<CancelReply> Cancel(CancelRequest request, ServerCallContext context)
    {
        Run(request.MigrationId).Frames.Writer.TryComplete();
        return Task.FromResult(new CancelReply { Cancelled = true });
    }

    public override Task<CleanupReply> Cleanup(CleanupRequest request, ServerCallContext context) => Task.FromResult(new CleanupReply());
}
