using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
using Ferry.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using static Ferry.Agent.Tests.Support.AgentCalls;

namespace Ferry.Agent.Tests.Grpc;

/// <summary>
/// A real agent (Kestrel with TLS on a loopback port) with the cluster's certificates: who may call
/// what. The API may do everything; a host's agent only what a migration's source needs of its target.
/// </summary>
public sealed class AgentCallerAuthenticationTests : IDisposable
{
    private readonly TestPki _pki = new();
    private readonly TestPki _stranger = new("Someone else's CA");

    private async Task<(FakeControlPlane Api, AgentTestHost Agent)> StartAsync()
    {
        var api = await FakeControlPlane.StartAsync(_pki.Certificate("spiffe://ferry/api"));
        var (certificate, key) = _pki.Host("host-b");
        var agent = await AgentTestHost.StartAsync("host-b", api.Url, settings: new Dictionary<string, string?>
        {
            ["Ferry:Agent:GrpcUrl"] = "https://127.0.0.1:0",
            ["Ferry:Tls:AllowInsecure"] = "false",
            ["Ferry:Tls:CaFile"] = _pki.CaFile,
            ["Ferry:Tls:CertificateFile"] = certificate,
            ["Ferry:Tls:KeyFile"] = key,
        });
        return (api, agent);
    }

    /// <summary>A client of the agent presenting <paramref name="certificate"/> (or none); it accepts any server certificate.</summary>
    private static AgentService.AgentServiceClient Caller(AgentTestHost agent, X509Certificate2? certificate) =>
        new(GrpcChannel.ForAddress(agent.Endpoint, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificates = certificate is null ? null : [certificate],
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                },
            },
        }));

    [Fact]
    public async Task A_caller_without_a_certificate_or_with_a_foreign_one_is_refused_before_any_call()
    {
        var (api, agent) = await StartAsync();
        await using (api)
        await using (agent)
        {
            foreach (var certificate in new[] { null, _stranger.Certificate("spiffe://ferry/api") })
            {
                var refused = await Assert.ThrowsAsync<RpcException>(() =>
                    Caller(agent, certificate).LaunchGuestAsync(new LaunchGuestRequest { Guest = Idle("intruder") }, Call()).ResponseAsync);
                // The handshake's refusal reaches the client as a failed connection (Unavailable) or, when the
                // server's close lands while HTTP/2 starts, as a broken request (Internal); never as an answer.
                Assert.True(refused.StatusCode is StatusCode.Unavailable or StatusCode.Internal, refused.ToString());
            }

            var status = await Caller(agent, _pki.Certificate("spiffe://ferry/api")).GetGuestStatusAsync(new GuestStatusRequest { Name = "intruder" }, Call());
            Assert.False(status.Exists);
        }
    }

    [Fact]
    public async Task The_api_may_call_and_another_host_may_not_launch_describe_or_prepare()
    {
        var (api, agent) = await StartAsync();
        await using (api)
        await using (agent)
        {
            var fromApi = Caller(agent, _pki.Certificate("spiffe://ferry/api"));
            Assert.False(string.IsNullOrEmpty((await fromApi.DescribeAsync(new DescribeRequest(), Call())).CpuModel));

            var otherHost = Caller(agent, _pki.Certificate("spiffe://ferry/host/host-c"));
            var calls = new Func<Task>[]
            {
                () => otherHost.DescribeAsync(new DescribeRequest(), Call()).ResponseAsync,
                () => otherHost.LaunchGuestAsync(new LaunchGuestRequest { Guest = Idle("intruder") }, Call()).ResponseAsync,
                () => otherHost.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = Guid.NewGuid().ToString(), Guest = Idle("intruder") }, Call()).ResponseAsync,
                () => otherHost.CancelAsync(new CancelRequest { MigrationId = Guid.NewGuid().ToString() }, Call()).ResponseAsync,
            };
            foreach (var call in calls)
            {
                Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(call)).StatusCode);
            }

            Assert.False((await fromApi.GetGuestStatusAsync(new GuestStatusRequest { Name = "intruder" }, Call())).Exists);
        }
    }

    [Fact]
    public async Task Only_the_source_the_api_named_may_ask_about_the_incoming_guest_and_tear_the_target_down()
    {
        var (api, agent) = await StartAsync();
        await using (api)
        await using (agent)
        {
            var id = Guid.NewGuid().ToString();
            var fromApi = Caller(agent, _pki.Certificate("spiffe://ferry/api"));
            await fromApi.PrepareIncomingAsync(new PrepareIncomingRequest
            {
                MigrationId = id, Guest = Idle("moving"), Policy = new MigrationPolicy { Transport = Transport.Qemu }, SourceHost = "host-a",
            }, Call());

            var notTheSource = Caller(agent, _pki.Certificate("spiffe://ferry/host/host-c"));
            var status = await Assert.ThrowsAsync<RpcException>(() => notTheSource.GetGuestStatusAsync(new GuestStatusRequest { Name = "moving" }, Call()).ResponseAsync);
            var cleanup = await Assert.ThrowsAsync<RpcException>(() => notTheSource.CleanupAsync(
                new CleanupRequest { MigrationId = id, GuestName = "moving", Role = CleanupRequest.Types.Role.Target }, Call()).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, status.StatusCode);
            Assert.Equal(StatusCode.PermissionDenied, cleanup.StatusCode);
            Assert.Equal("inmigrate", (await fromApi.GetGuestStatusAsync(new GuestStatusRequest { Name = "moving" }, Call())).RunState);

            var source = Caller(agent, _pki.Certificate("spiffe://ferry/host/host-a"));
            Assert.Equal("inmigrate", (await source.GetGuestStatusAsync(new GuestStatusRequest { Name = "moving" }, Call())).RunState);
            var asSourceOfNothing = await Assert.ThrowsAsync<RpcException>(() => source.StopGuestAsync(new StopGuestRequest { Name = "moving" }, Call()).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, asSourceOfNothing.StatusCode);

            await source.CleanupAsync(new CleanupRequest { MigrationId = id, GuestName = "moving", Role = CleanupRequest.Types.Role.Target }, Call());
            Assert.False((await fromApi.GetGuestStatusAsync(new GuestStatusRequest { Name = "moving" }, Call())).Exists);
        }
    }

    public void Dispose()
    {
        _pki.Dispose();
        _stranger.Dispose();
    }
}
