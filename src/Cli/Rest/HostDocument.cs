namespace Ferry.Cli.Rest;

/// <summary>A host as <c>GET /api/v1/hosts</c> returns it (the fields the CLI shows).</summary>
internal sealed record HostDocument(Guid Id, string Name, string State, string MigrationAddress, HostCapabilitiesDocument Capabilities,
    DateTimeOffset? LastHeartbeatAt);
