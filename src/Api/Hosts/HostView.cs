using Ferry.Domain.Hosts;
using Host = Ferry.Domain.Hosts.Host;

namespace Ferry.Api.Hosts;

/// <summary>A host as the API shows it.</summary>
public sealed record HostView(Guid Id, string Name, HostState State, string MigrationAddress,
    HostCapabilities Capabilities, DateTimeOffset? LastHeartbeatAt)
{
    internal static HostView From(Host h) => new(h.Id, h.Name, h.State, h.MigrationAddress, h.Capabilities, h.LastHeartbeatAt);
}
