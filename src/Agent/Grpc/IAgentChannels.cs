using Ferry.Contracts;

namespace Ferry.Agent.Grpc;

/// <summary>Clients for other agents' AgentService, one HTTP/2 channel per endpoint, kept for the agent's life.</summary>
public interface IAgentChannels
{
    AgentService.AgentServiceClient For(Uri endpoint);
}
