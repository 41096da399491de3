using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Ferry.Agent.Migration.Transports.Native;
using Ferry.Agent.Migration.Transports.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
using Ferry.Testing;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using static Ferry.Agent.Tests.Support.AgentCalls;

namespace Ferry.Agent.Tests.Grpc;

/// <summary>
/// Two real agents with the cluster's certificates (mutual TLS between them and with a fake API), real
/// QEMU guests: the qemu transport's stream is QEMU's TLS, which a relay between the two QEMUs sees on
/// the wire, and the guest's memory is intact at the target.
/// </summary>
public sealed class AgentTlsMigrationTests : IDisposable
{
    private readonly TestPki _pki = new();

    private async Task<AgentTestHost> StartAgentAsync(string host, FakeControlPlane api)
    {
        var (certificate, key) = _pki.Host(host);
        return await AgentTestHost.StartAsync(host, api.Url, settings: new Dictionary<string, string?>
        {
            ["Ferry:Agent:GrpcUrl"] = "https://127.0.0.1:0",
            ["Ferry:Tls:AllowInsecure"] = "false",
            ["Ferry:Tls:CaFile"] = _pki.CaFile,
            ["Ferry:Tls:CertificateFile"] = certificate,
            ["Ferry:Tls:KeyFile"] = key,
        });
    }

    /// <summary>A channel to <paramref name="agent"/> as the API: with the API's certificate.</summary>
    private static GrpcChannel AsApi(AgentTestHost agent, X509Certificate2 api) => GrpcChannel.ForAddress(agent.Endpoint, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [api],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            },
        },
    });

    [Fact]
    public async Task A_qemu_migration_between_tls_agents_is_tls_on_the_wire_and_the_memory_invariant_holds()
    {
        using var apiCertificate = _pki.Certificate("spiffe://ferry/api");
        await using var api = await FakeControlPlane.StartAsync(apiCertificate);
        await using var a = await StartAgentAsync("host-a", api);
        await using var b = await StartAgentAsync("host-b", api);
        using var toA = AsApi(a, apiCertificate);
        using var toB = AsApi(b, apiCertificate);
        var clientA = new AgentService.AgentServiceClient(toA);
        var clientB = new AgentService.AgentServiceClient(toB);
        var guest = PageCounter("sealed", 128);
        await clientA.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("sealed"));
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, Transport = Transport.Qemu };

        var target = await clientB.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy, SourceHost = "host-a" }, Call());
        var arrived = b.Qemu("sealed");
        var waiting = await arrived.Qmp.QueryMigrationParametersAsync(TestContext.Current.CancellationToken);

        // The source's QEMU reaches the target's through the tap, which keeps what crossed.
        await using var tap = WireTap.Start(new IPEndPoint(IPAddress.Parse(target.Address), target.Port));
        var request = Migrate(id, "sealed", target, b, policy);
        request.TargetPort = tap.Port;
        request.TargetHost = "host-b";
        var end = (await MigrateToEndAsync(clientA, request))[^1];
        Report("128 MiB page counter between TLS agents", end);

        Assert.Equal(MigrationPhase.Completed, end.Phase);
        Assert.Equal(QemuMigrationTls.ObjectId, waiting.TlsCreds);
        Assert.Equal("qemu requested by the policy; " + new QemuMigrationTls("-", "host-b").Describe(), end.Stats.TransportReason);
        Assert.True(tap.Forwarded > 128L * 1024 * 1024, $"only {tap.Forwarded} bytes crossed the tap");
        var head = Assert.Single(tap.Heads);
        Assert.True(head.Length >= 1024, $"only {head.Length} bytes seen");

        // A TLS handshake record (0x16, version 3.x), where a plain stream starts with QEMU's magic; and no
        // magic in the first 64 KiB either (random bytes hold it there about once in 65,000 migrations).
        Assert.Equal(0x16, head[0]);
        Assert.Equal(0x03, head[1]);
        Assert.Equal(-1, head.AsSpan().IndexOf("QEVM"u8));

        var invariant = await QemuHost.StopAndCheckInvariantAsync(arrived);
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);

        // Once the guest runs at the target, its QEMU holds the key no longer.
        var dropped = false;
        for (var attempt = 0; attempt < 200 && !dropped; attempt++)
        {
            dropped = (await arrived.Qmp.QueryMigrationParametersAsync(TestContext.Current.CancellationToken)).TlsCreds == string.Empty;
            if (!dropped)
            {
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
        }

        Assert.True(dropped, "the target's QEMU still has tls-creds set after the guest ran there");
    }

    [Fact]
    public async Task With_auto_between_tls_agents_a_natively_moved_guest_hands_its_device_state_to_the_tls_target_and_stays_intact()
    {
        using var apiCertificate = _pki.Certificate("spiffe://ferry/api");
        await using var api = await FakeControlPlane.StartAsync(apiCertificate);
        await using var a = await StartAgentAsync("host-a", api);
        await using var b = await StartAgentAsync("host-b", api);
        var host = a.Services.GetRequiredService<IQemuGuestTracking>().ForHost();
        if (!host.Available)
        {
            Assert.Skip($"no dirty tracker for QEMU guests here, so auto never picks native: {host.Reason}");
        }

        using var toA = AsApi(a, apiCertificate);
        using var toB = AsApi(b, apiCertificate);
        var clientA = new AgentService.AgentServiceClient(toA);
        var clientB = new AgentService.AgentServiceClient(toB);
        var guest = PageCounter("autotls", 64);
        await clientA.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("autotls"));
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, Transport = Transport.Auto };

        var target = await clientB.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy, SourceHost = "host-a" }, Call());
        var arrived = b.Qemu("autotls");
        var waiting = await arrived.Qmp.QueryMigrationParametersAsync(TestContext.Current.CancellationToken);
        var request = Migrate(id, "autotls", target, b, policy);
        request.TargetHost = "host-b";
        request.PageStreamPort = target.PageStreamPort;
        request.PageStreamToken = target.PageStreamToken;
        var end = (await MigrateToEndAsync(clientA, request))[^1];
        Report("auto between TLS agents", end);

        Assert.Equal(Transport.Auto, target.Transport);

        // QEMU's port at the target took only TLS while it waited: the device state came in over TLS.
        Assert.Equal(QemuMigrationTls.ObjectId, waiting.TlsCreds);
        Assert.Equal(MigrationPhase.Completed, end.Phase);
        Assert.Equal(Transport.Native, end.Stats.Transport);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(arrived);
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);
    }

    public void Dispose() => _pki.Dispose();
}
