using Ferry.Domain.Hosts;

namespace Ferry.Api.Hosts;

/// <summary>Declares a host by hand; agents register theirs over gRPC.</summary>
/// <param name="Name">Unique name, <c>[a-z0-9-]{1,63}</c>.</param>
/// <param name="MigrationAddress">IP address or DNS name migration traffic reaches the host on.</param>
/// <param name="Capabilities">Inventory, if known; the agent's registration replaces it.</param>
public sealed record CreateHostRequest(string? Name, string? MigrationAddress, HostCapabilities? Capabilities);
