using System.Security.Cryptography.X509Certificates;
using Ferry.Api.Tests.Support;
using Ferry.Contracts;
using Ferry.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using DomainState = Ferry.Domain.Migrations.MigrationState;

namespace Ferry.Api.Tests.Agents;

/// <summary>
/// The agent-facing service with cluster TLS: an agent's certificate binds it to its host. The
/// connection's certificate is handed to the API as Kestrel would after the handshake; that the
/// handshake itself refuses strangers is shown against real processes (the end-to-end tests).
/// </summary>
public sealed class AgentAuthenticationTests(PostgresServer postgres) : ApiTest(postgres)
{
    private readonly TestPki _pki = new();
    private readonly TestPki _stranger = new("Someone else's CA");
    private Dictionary<string, string>? _settings;

    protected override IReadOnlyDictionary<string, string> Settings => _settings ??= Configure();

    private Dictionary<string, string> Configure()
    {
        var (certificate, key) = _pki.Api();
        return new Dictionary<string, string>
        {
            ["Ferry:Tls:AllowInsecure"] = "false",
            ["Ferry:Tls:CaFile"] = _pki.CaFile,
            ["Ferry:Tls:CertificateFile"] = certificate,
            ["Ferry:Tls:KeyFile"] = key,
            ["Kestrel:Endpoints:Grpc:Url"] = "https://127.0.0.1:0",
        };
    }

    private ControlPlane.ControlPlaneClient Agent(X509Certificate2? certificate) => new(GrpcChannel.ForAddress(Factory.Server.BaseAddress,
        new GrpcChannelOptions { HttpHandler = Factory.Server.CreateHandler(http => http.Connection.ClientCertificate = certificate) }));

    private static RegisterRequest Registration(string host, string address) => new()
    {
        HostName = host, MigrationAddress = address, AgentEndpoint = $"https://{address}:5090",
        Inventory = new HostInventory { CpuModel = "qemu64", MemoryFreeMib = 16384 },
    };

    private async Task<int> HostCount()
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Persistence.FerryDbContext>().Hosts.CountAsync(Ct);
    }

    [Fact]
    public async Task An_agent_registers_and_heartbeats_for_the_host_its_certificate_names()
    {
        var hostA = Agent(_pki.Certificate("spiffe://ferry/host/host-a"));

        await hostA.RegisterAsync(Registration("host-a", "10.77.0.2"), cancellationToken: Ct);
        await hostA.HeartbeatAsync(new HeartbeatRequest { HostName = "host-a" }, cancellationToken: Ct);

        Assert.Equal(1, await HostCount());
    }

    [Fact]
    public async Task An_agent_cannot_register_or_heartbeat_for_another_host_and_changes_nothing()
    {
        var hostA = Agent(_pki.Certificate("spiffe://ferry/host/host-a"));
        var hostB = Agent(_pki.Certificate("spiffe://ferry/host/host-b"));
        await hostB.RegisterAsync(Registration("host-b", "10.77.0.3"), cancellationToken: Ct);

        var register = await Assert.ThrowsAsync<RpcException>(() => hostA.RegisterAsync(Registration("host-b", "10.66.6.6"), cancellationToken: Ct).ResponseAsync);
        var heartbeat = await Assert.ThrowsAsync<RpcException>(() => hostA.HeartbeatAsync(new HeartbeatRequest { HostName = "host-b" }, cancellationToken: Ct).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, register.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, heartbeat.StatusCode);
        var host = await Json(await Client.GetAsync("/api/v1/hosts/host-b", Ct));
        Assert.Equal("10.77.0.3", host["migrationAddress"]!.GetValue<string>());
        Assert.Equal(1, await HostCount());
    }

    [Fact]
    public async Task A_caller_without_a_certificate_or_with_a_foreign_or_nameless_one_is_unauthenticated()
    {
        foreach (var certificate in new[]
        {
            null,
            _stranger.Certificate("spiffe://ferry/host/host-a"),
            _pki.Certificate(uri: null),
        })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => Agent(certificate).RegisterAsync(Registration("host-a", "10.77.0.2"), cancellationToken: Ct).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        }

        Assert.Equal(0, await HostCount());
    }

    [Fact]
    public async Task The_apis_own_certificate_is_not_an_agent()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Agent(_pki.Certificate("spiffe://ferry/api")).RegisterAsync(Registration("host-a", "10.77.0.2"), cancellationToken: Ct).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    [Fact]
    public async Task With_mutual_tls_an_agent_must_announce_an_https_endpoint()
    {
        var request = Registration("host-a", "10.77.0.2");
        request.AgentEndpoint = "http://10.77.0.2:5090";

        var error = await Assert.ThrowsAsync<RpcException>(() => Agent(_pki.Certificate("spiffe://ferry/host/host-a")).RegisterAsync(request, cancellationToken: Ct).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(0, await HostCount());
    }

    [Fact]
    public async Task Only_the_source_host_reports_on_a_migration_and_anothers_report_changes_nothing()
    {
        var hostA = Agent(_pki.Certificate("spiffe://ferry/host/host-a"));
        var hostB = Agent(_pki.Certificate("spiffe://ferry/host/host-b"));
        var hostC = Agent(_pki.Certificate("spiffe://ferry/host/host-c"));
        await hostA.RegisterAsync(Registration("host-a", "10.77.0.2"), cancellationToken: Ct);
        await hostB.RegisterAsync(Registration("host-b", "10.77.0.3"), cancellationToken: Ct);
        await DefineGuest("vnf-1", "host-a");
        var id = (await Json(await PostMigration(new { guest = "vnf-1", targetHost = "host-b" })))["id"]!.GetValue<string>();
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Persistence.FerryDbContext>();
            var m = await db.Migrations.SingleAsync(x => x.Id == Guid.Parse(id), Ct);
            var b = await db.Hosts.SingleAsync(h => h.Name == "host-b", Ct);
            m.Schedule(b.Id, b.Name, Factory.Clock.GetUtcNow());
            m.Advance(DomainState.PreparingTarget, Factory.Clock.GetUtcNow());
            m.TargetPrepared("10.77.0.3:49152", Factory.Clock.GetUtcNow());
            m.Advance(DomainState.Running, Factory.Clock.GetUtcNow());
            await db.SaveChangesAsync(Ct);
        }

        var failed = new MigrationProgress { MigrationId = id, Sequence = 1, Phase = MigrationPhase.Failed, FailureReason = "forged" };
        foreach (var stranger in new[] { hostB, hostC })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => stranger.ReportResultAsync(failed, cancellationToken: Ct).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
            var progress = await Assert.ThrowsAsync<RpcException>(() => stranger.ReportProgressAsync(failed, cancellationToken: Ct).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, progress.StatusCode);
        }

        Assert.Equal("running", (await GetMigration(id))["state"]!.GetValue<string>());

        var ack = await hostA.ReportResultAsync(failed, cancellationToken: Ct);
        Assert.True(ack.Known);
        Assert.Equal("failed", (await GetMigration(id))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_report_on_an_unknown_migration_is_unknown_whoever_sends_it()
    {
        var ack = await Agent(_pki.Certificate("spiffe://ferry/host/host-c")).ReportResultAsync(
            new MigrationProgress { MigrationId = Guid.NewGuid().ToString(), Sequence = 1, Phase = MigrationPhase.Failed }, cancellationToken: Ct);

        Assert.False(ack.Known);
    }

    // xunit disposes an IAsyncLifetime test class through DisposeAsync only.
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _pki.Dispose();
        _stranger.Dispose();
    }
}
