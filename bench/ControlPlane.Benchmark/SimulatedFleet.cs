using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Ferry.Contracts;
using Ferry.Testing;
using Grpc.Net.Client;
using ControlPlaneApi = Ferry.Contracts.ControlPlane;

namespace Ferry.ControlPlane.Benchmark;

/// <summary>
/// N hosts' agents as the API sees them: each with its own certificate naming its host, its own TLS channel to the
/// API, registering once and heartbeating at the interval the API asks for. Their AgentService is the one
/// <see cref="InstantAgent"/>, reached at the host's own loopback address.
/// </summary>
internal sealed class SimulatedFleet : IAsyncDisposable
{
    private readonly List<(string Name, GrpcChannel Channel, X509Certificate2 Certificate)> _agents = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _heartbeats = [];
    private long _heartbeatsSent;
    private long _heartbeatsFailed;

    public long HeartbeatsSent => Interlocked.Read(ref _heartbeatsSent);

    public long HeartbeatsFailed => Interlocked.Read(ref _heartbeatsFailed);

    public static string HostName(int i) => $"bench-h{i}";

    /// <summary>Host <paramref name="i"/>'s agent endpoint: its own loopback address, so each host is its own channel at the API.</summary>
    public static string AgentEndpoint(int i, int port) => $"https://127.1.{i / 250}.{i % 250 + 1}:{port}";

    public static async Task<SimulatedFleet> RegisterAsync(int count, string apiGrpcUrl, int agentPort, TestPki pki, CancellationToken ct)
    {
        var fleet = new SimulatedFleet();
        for (var i = 0; i < count; i++)
        {
            var name = HostName(i);
            var certificate = pki.Certificate($"spiffe://ferry/host/{name}", IPAddress.Parse($"127.1.{i / 250}.{i % 250 + 1}"));
            var handler = new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificates = [certificate],
                    // The API's certificate is the test CA's; this benchmark measures the API, not certificate checks.
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                },
                EnableMultipleHttp2Connections = false,
            };
            fleet._agents.Add((name, GrpcChannel.ForAddress(apiGrpcUrl, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true }), certificate));
        }

        // Registered a few at a time, as a fleet coming up would: each is a TLS handshake and a write at the API.
        var interval = 5;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
        {
            var (name, channel, _) = fleet._agents[i];
            var reply = await new ControlPlaneApi.ControlPlaneClient(channel).RegisterAsync(new RegisterRequest
            {
                HostName = name,
                MigrationAddress = $"10.{100 + i / 62500}.{i / 250 % 250}.{i % 250 + 1}",
                AgentEndpoint = AgentEndpoint(i, agentPort),
                Inventory = Inventory(),
            }, cancellationToken: token);
            interval = Math.Max(1, reply.HeartbeatIntervalSeconds);
        });

        for (var i = 0; i < count; i++)
        {
            var (name, channel, _) = fleet._agents[i];
            // Spread over the interval, as agents started at different moments are.
            var offset = TimeSpan.FromSeconds(interval) * i / count;
            fleet._heartbeats.Add(fleet.HeartbeatAsync(name, channel, TimeSpan.FromSeconds(interval), offset, fleet._stop.Token));
        }

        return fleet;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_heartbeats);
        foreach (var (_, channel, certificate) in _agents)
        {
            channel.Dispose();
            certificate.Dispose();
        }

        _stop.Dispose();
    }

    private static HostInventory Inventory() => new() { CpuModel = "qemu64", MemoryFreeMib = 65536 };

    private async Task HeartbeatAsync(string name, GrpcChannel channel, TimeSpan interval, TimeSpan offset, CancellationToken stop)
    {
        var client = new ControlPlaneApi.ControlPlaneClient(channel);
        try
        {
            await Task.Delay(offset, stop);
            using var timer = new PeriodicTimer(interval);
            do
            {
                try
                {
                    await client.HeartbeatAsync(new HeartbeatRequest { HostName = name, Inventory = Inventory() }, cancellationToken: stop);
                    Interlocked.Increment(ref _heartbeatsSent);
                }
                catch (Grpc.Core.RpcException) when (!stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _heartbeatsFailed);
                }
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Grpc.Core.RpcException) when (stop.IsCancellationRequested)
        {
        }
    }
}
