using System.Collections.Concurrent;
using Ferry.Contracts;
using Ferry.ServiceDefaults.Trust;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Ferry.Agent.Grpc;

/// <summary>
/// Channels to other agents. With cluster TLS each presents this agent's certificate and accepts
/// only the host the API named for that endpoint (<see cref="ExpectHost"/>): a target endpoint
/// that answers with another host's certificate, or with none, gets nothing.
/// </summary>
internal sealed class AgentChannels(IServiceProvider services) : IAgentChannels, IDisposable
{
    private readonly ClusterTrust? _trust = services.GetService<ClusterTrust>();
    private readonly ConcurrentDictionary<Uri, Lazy<GrpcChannel>> _channels = new();
    private readonly ConcurrentDictionary<Uri, string> _expected = new();

    public AgentService.AgentServiceClient For(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var channel = _channels.GetOrAdd(endpoint, e => new Lazy<GrpcChannel>(() => GrpcChannel.ForAddress(e, new GrpcChannelOptions
        {
            HttpHandler = _trust?.CreateClientHandler(peer => _expected.TryGetValue(e, out var host) && peer.IsHost(host)),
        })));
        return new AgentService.AgentServiceClient(channel.Value);
    }

    /// <summary>The host whose agent answers at <paramref name="endpoint"/>, as the API said.</summary>
    public void ExpectHost(Uri endpoint, string host)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _expected[endpoint] = host;
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values.Where(c => c.IsValueCreated))
        {
            channel.Value.Dispose();
        }
    }
}
