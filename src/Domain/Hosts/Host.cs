namespace Ferry.Domain.Hosts;

/// <summary>A compute host that runs guests and takes part in migrations.</summary>
public sealed class Host
{
    private Host(Guid id, string name, string migrationAddress, HostCapabilities capabilities)
    {
        Id = id;
        Name = name;
        MigrationAddress = migrationAddress;
        Capabilities = capabilities;
    }

    /// <summary>Server-generated identity.</summary>
    public Guid Id { get; private set; }

    /// <summary>Unique name, <see cref="Names.Pattern"/>.</summary>
    public string Name { get; private set; }

    /// <summary>Address the host's migration traffic is received on (an IP address or DNS name).</summary>
    public string MigrationAddress { get; private set; }

    /// <summary>gRPC endpoint of the host's agent; null for hosts declared by hand whose agent never registered.</summary>
    public string? AgentEndpoint { get; private set; }

    /// <summary>The host's inventory.</summary>
    public HostCapabilities Capabilities { get; private set; }

    /// <summary>Last time the host's agent was heard from; null if never.</summary>
    public DateTimeOffset? LastHeartbeatAt { get; private set; }

    /// <summary>Whether the host takes part in migrations.</summary>
    public HostState State { get; private set; }

    /// <summary>Declares a host. It starts <see cref="HostState.Ready"/>.</summary>
    public static Host Create(string name, string migrationAddress, HostCapabilities? capabilities = null)
    {
        if (Names.Explain(name) is { } problem)
        {
            throw new DomainException($"host name {problem}");
        }

        if (string.IsNullOrWhiteSpace(migrationAddress))
        {
            throw new DomainException("host migration address is required");
        }

        return new Host(Guid.CreateVersion7(), name, migrationAddress, capabilities ?? HostCapabilities.Unknown);
    }

    /// <summary>The host's agent announced itself: where it is reached, what the host can do. A down host comes back.</summary>
    public void Register(string migrationAddress, string agentEndpoint, HostCapabilities capabilities, DateTimeOffset at)
    {
        if (string.IsNullOrWhiteSpace(migrationAddress) || string.IsNullOrWhiteSpace(agentEndpoint))
        {
            throw new DomainException("an agent registers with a migration address and an endpoint");
        }

        MigrationAddress = migrationAddress;
        AgentEndpoint = agentEndpoint;
        Heartbeat(at, capabilities);
    }

    /// <summary>Stops new guests from being placed here.</summary>
    public void Drain() => State = HostState.Draining;

    /// <summary>Takes the host back into placement. A host that is down stays down until it heartbeats.</summary>
    public void Undrain()
    {
        if (State == HostState.Draining)
        {
            State = HostState.Ready;
        }
    }

    /// <summary>Records a heartbeat; a host that was down comes back ready.</summary>
    public void Heartbeat(DateTimeOffset at, HostCapabilities? capabilities = null)
    {
        LastHeartbeatAt = at;
        Capabilities = capabilities ?? Capabilities;
        if (State == HostState.Down)
        {
            State = HostState.Ready;
        }
    }

    /// <summary>Marks the host down because its agent went silent.</summary>
    public void MarkDown() => State = HostState.Down;
}
