using Ferry.Contracts;

namespace Ferry.Agent.Grpc;

/// <summary>Clients for other agents' AgentService, one HTTP/2 channel per endpoint, kept for the agent's life.</summary>
public interface IAgentChannels
{
    AgentService.AgentServiceClient For(Uri endpoint);

    /// <summary>With cluster TLS, the agent at <paramref name="endpoint"/> must present the certificate of <paramref name="host"/>.</summary>
    void ExpectHost(Uri endpoint, string host);
}
