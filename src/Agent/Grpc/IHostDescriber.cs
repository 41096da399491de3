using Ferry.Contracts;

namespace Ferry.Agent.Grpc;

/// <summary>The host inventory as Describe, Register and Heartbeat report it.</summary>
public interface IHostDescriber
{
    Task<HostInventory> DescribeAsync(CancellationToken cancellationToken);
}
