using System.Net;
using Ferry.Contracts;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using System.Security.Cryptography.X509Certificates;

namespace Ferry.ControlPlane.Benchmark;

/// <summary>
/// Every simulated host's AgentService, answering at once: one Kestrel on all addresses, reached by each host at its
/// own loopback address (127.1.x.y), so the API holds one TLS channel per host as it would with real agents. The
/// API authenticates it by the cluster CA and the host role its certificate names.
/// </summary>
internal sealed class InstantAgent : AgentService.AgentServiceBase
{
    public static async Task<WebApplication> StartAsync(int port, X509Certificate2 certificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.Sources.Clear();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Any, port, o =>
        {
            o.Protocols = HttpProtocols.Http2;
            o.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate, ClientCertificateMode = ClientCertificateMode.AllowCertificate, ClientCertificateValidation = (_, _, _) => true });
        }));
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<InstantAgent>();
        await app.StartAsync();
        return app;
    }

    public override Task<PrepareIncomingReply> PrepareIncoming(PrepareIncomingRequest request, ServerCallContext context) =>
        Task.FromResult(new PrepareIncomingReply { Address = "10.0.0.2", Port = 4444, Transport = Transport.Qemu });

    public override async Task Migrate(MigrateRequest request, IServerStreamWriter<MigrationProgress> responseStream, ServerCallContext context)
    {
        var id = request.MigrationId;
        await responseStream.WriteAsync(new MigrationProgress { MigrationId = id, Sequence = 1, Phase = MigrationPhase.Running, TransferredBytes = 1 << 20 });
        await responseStream.WriteAsync(new MigrationProgress
        {
            MigrationId = id, Sequence = 2, Phase = MigrationPhase.Completed,
            Stats = new MigrationStats { Transport = Transport.Qemu, TotalTimeMs = 400, DowntimeMs = 5, SetupTimeMs = 2, BytesTransferred = 1 << 21, Passes = 2, CleanupTimeMs = 9 },
        });
    }

    public override Task<CancelReply> Cancel(CancelRequest request, ServerCallContext context) =>
        Task.FromResult(new CancelReply { Cancelled = true, Outcome = CancelReply.Types.Outcome.Cancelled });

    public override Task<CleanupReply> Cleanup(CleanupRequest request, ServerCallContext context) => Task.FromResult(new CleanupReply());

    public override Task<GuestStatusReply> GetGuestStatus(GuestStatusRequest request, ServerCallContext context) =>
        Task.FromResult(new GuestStatusReply { Name = request.Name });
}
