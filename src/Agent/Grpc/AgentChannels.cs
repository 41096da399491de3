using System.Collections.Concurrent;
using Ferry.Contracts;
using Grpc.Net.Client;

namespace Ferry.Agent.Grpc;

internal sealed class AgentChannels : IAgentChannels, IDisposable
{
    private readonly ConcurrentDictionary<Uri, Lazy<GrpcChannel>> _channels = new();

    public AgentService.AgentServiceClient For(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var channel = _channels.GetOrAdd(endpoint, e => new Lazy<GrpcChannel>(() => GrpcChannel.ForAddress(e)));
        return new AgentService.AgentServiceClient(channel.Value);
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values.Where(c => c.IsValueCreated))
        {
            channel.Value.Dispose();
        }
    }
}
