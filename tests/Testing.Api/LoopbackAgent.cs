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

namespace Ferry.Testing.Api;

/// <summary>
/// A host agent that answers as a test tells it, over real gRPC on loopback; the API that calls it is real.
/// Api.Tests uses it for the faults a real agent cannot produce on demand (refusing to prepare, a stream
/// that breaks mid-migration); Cli.Tests and Dashboard.Tests make it <see cref="Paced"/>, to look at a
/// client while a migration is held in a phase, with no clock involved.
/// </summary>
public sealed class LoopbackAgent : AgentService.AgentServiceBase, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, PacedMigration> _paced = new();
    private WebApplication? _app;

    public string Endpoint { get; private set; } = "";

    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>What PrepareIncoming does; default: ready on 10.0.0.2:4444.</summary>
    public Func<PrepareIncomingRequest, PrepareIncomingReply> Prepare { get; set; } =
        _ => new PrepareIncomingReply { Address = "10.0.0.2", Port = 4444, Transport = Transport.Qemu };

    /// <summary>
    /// Whether Migrate streams what the test sends through <see cref="Run"/>, when it sends it, instead of
    /// <see cref="Migration"/>.
    /// </summary>
    public bool Paced { get; init; }

    /// <summary>What a paced migration sends by itself as soon as the API asked for it; default: nothing.</summary>
    public Action<PacedMigration>? OnPacedStart { get; set; }

    /// <summary>What Migrate streams unless <see cref="Paced"/>; an exception thrown from it breaks the stream.</summary>
    public Func<MigrateRequest, IEnumerable<MigrationProgress>> Migration { get; set; } = r => Completed(r.MigrationId);

    /// <summary>Whether Migrate keeps its stream open, silent, after streaming <see cref="Migration"/> (an agent whose migration hangs).</summary>
    public bool HoldStreamOpen { get; set; }

    /// <summary>What Cancel answers; default: cancelled before switch-over.</summary>
    public Func<CancelRequest, CancelReply> CancelAnswer { get; set; } =
        _ => new CancelReply { Cancelled = true, Outcome = CancelReply.Types.Outcome.Cancelled };

    /// <summary>What Cleanup does; an exception thrown from it is the agent's refusal.</summary>
    public Func<CleanupRequest, CleanupReply> CleanupAnswer { get; set; } = _ => new CleanupReply();

    /// <summary>What GetGuestStatus answers, by guest name; default: no such guest here.</summary>
    public Func<string, GuestStatusReply> GuestStatus { get; set; } = name => new GuestStatusReply { Name = name };

    /// <summary>What DescribeArrival answers; default: the guest never ran here.</summary>
    public Func<DescribeArrivalRequest, ArrivalReport> Arrival { get; set; } = _ => new ArrivalReport { Note = "not arrived" };

    /// <summary>What LaunchGuest does; default: the guest runs. An exception thrown from it is the agent's refusal.</summary>
    public Func<LaunchGuestRequest, GuestStatusReply> Launch { get; set; } = r => Status(r.Guest.Name, "running");

    /// <summary>What StopGuest does; default: the guest no longer runs. An exception thrown from it is the agent's refusal.</summary>
    public Func<StopGuestRequest, GuestStatusReply> Stop { get; set; } = r => new GuestStatusReply { Name = r.Name };

    /// <summary>The paced run of <paramref name="migrationId"/>, created when the test or the API asks first.</summary>
    public PacedMigration Run(string migrationId) => _paced.GetOrAdd(migrationId, id => new PacedMigration(id));

    /// <summary>A guest status as a real agent reports it.</summary>
    public static GuestStatusReply Status(string name, string runState) => new() { Name = name, Exists = true, RunState = runState };

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
        _app.MapGrpcService<LoopbackAgent>();
        await _app.StartAsync();
        Endpoint = _app.Urls.Single();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var run in _paced.Values)
        {
            run.End();
        }

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
        if (Paced)
        {
            var run = Run(request.MigrationId);
            run.Started.TrySetResult();
            OnPacedStart?.Invoke(run);
            await foreach (var frame in run.Frames.Reader.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(frame);
            }
        }
        else
        {
            foreach (var progress in Migration(request))
            {
                await responseStream.WriteAsync(progress);
            }
        }

        if (HoldStreamOpen)
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }
    }

    public override Task<CancelReply> Cancel(CancelRequest request, ServerCallContext context)
    {
        Calls.Enqueue("cancel");
        return Task.FromResult(CancelAnswer(request));
    }

    public override Task<CleanupReply> Cleanup(CleanupRequest request, ServerCallContext context)
    {
        Calls.Enqueue($"cleanup {request.Role}");
        return Task.FromResult(CleanupAnswer(request));
    }

    public override Task<GuestStatusReply> GetGuestStatus(GuestStatusRequest request, ServerCallContext context)
    {
        Calls.Enqueue($"status {request.Name}");
        return Task.FromResult(GuestStatus(request.Name));
    }

    public override Task<GuestStatusReply> LaunchGuest(LaunchGuestRequest request, ServerCallContext context)
    {
        Calls.Enqueue($"launch {request.Guest.Name}");
        return Task.FromResult(Launch(request));
    }

    public override Task<GuestStatusReply> StopGuest(StopGuestRequest request, ServerCallContext context)
    {
        Calls.Enqueue($"stop {request.Name}");
        return Task.FromResult(Stop(request));
    }

    public override Task<ArrivalReport> DescribeArrival(DescribeArrivalRequest request, ServerCallContext context)
    {
        Calls.Enqueue("arrival");
        return Task.FromResult(Arrival(request));
    }
}
