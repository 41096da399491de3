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

namespace Ferry.Api.Tests.Infrastructure;

/// <summary>
/// An agent that answers as a test tells it, over real gRPC on loopback: for the faults a real
/// agent cannot produce on demand (refusing to prepare, a stream that breaks mid-migration).
/// </summary>
public sealed class FakeAgent : AgentService.AgentServiceBase, IAsyncDisposable
{
    private WebApplication? _app;

    public string Endpoint { get; private set; } = "";

    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>What PrepareIncoming does; default: ready on 10.0.0.2:4444.</summary>
    public Func<PrepareIncomingRequest, PrepareIncomingReply> Prepare { get; set; } =
        _ => new PrepareIncomingReply { Address = "10.0.0.2", Port = 4444, Transport = Transport.Qemu };

    /// <summary>What Migrate streams; an exception thrown from it breaks the stream.</summary>
    public Func<MigrateRequest, IEnumerable<MigrationProgress>> Migration { get; set; } = r => Completed(r.MigrationId);

    public static IEnumerable<MigrationProgress> Completed(string id, double totalMs = 400, double downtimeMs = 5)
    {
        yield return new MigrationProgress { MigrationId = id, Sequence = 1, Phase = MigrationPhase.Running, TransferredBytes = 1 << 20 };
        yield return new MigrationProgress { MigrationId = id, Sequence = 2, Phase = MigrationPhase.SwitchingOver };
        yield return new MigrationProgress { MigrationId = id, Sequence = 3, Phase = MigrationPhase.CleaningUp };
        yield return new MigrationProgress
        {
            MigrationId = id, Sequence = 4, Phase = MigrationPhase.Completed,
            Stats = new MigrationStats { Transport = Transport.Qemu, TotalTimeMs = totalMs, DowntimeMs = downtimeMs, SetupTimeMs = 2, BytesTransferred = 1 << 21, Passes = 2, CleanupTimeMs = 9 },
        };
    }

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
        _app.MapGrpcService<FakeAgent>();
        await _app.StartAsync();
        Endpoint = _app.Urls.Single();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    public override Task<PrepareIncomingReply> PrepareIncoming(PrepareIncomingRequest request, ServerCallContext context)
    {
        Calls.Enqueue($"prepare {request.Guest.Name}");
        return Task.FromResult(Prepare(request));
    }

    public override async Task Migrate(MigrateRequest request, IServerStreamWriter<MigrationProgress> responseStream, ServerCallContext context)
    {
        Calls.Enqueue($"migrate {request.GuestName} -> {request.TargetAddress}:{request.TargetPort}");
        foreach (var progress in Migration(request))
        {
            await responseStream.WriteAsync(progress);
        }
    }

    public override Task<CancelReply> Cancel(CancelRequest request, ServerCallContext context)
    {
        Calls.Enqueue("cancel");
        return Task.FromResult(new CancelReply { Cancelled = true });
    }

    public override Task<CleanupReply> Cleanup(CleanupRequest request, ServerCallContext context)
    {
        Calls.Enqueue($"cleanup {request.Role}");
        return Task.FromResult(new CleanupReply());
    }
}
