namespace Ferry.ServiceDefaults.Trust;

/// <summary>Who is at the other end of a mutually authenticated connection, as its certificate names it.</summary>
/// <param name="Role">The API or a host's agent.</param>
/// <param name="HostName">The host an agent certificate names; empty for the API.</param>
public sealed record ClusterPeer(ClusterRole Role, string HostName)
{
    /// <summary>The API.</summary>
    public static ClusterPeer Api { get; } = new(ClusterRole.Api, string.Empty);

    /// <summary>The agent of <paramref name="hostName"/>.</summary>
    public static ClusterPeer Host(string hostName) => new(ClusterRole.Host, hostName);

    /// <summary>Whether this is the agent of <paramref name="hostName"/>.</summary>
    public bool IsHost(string? hostName) => Role == ClusterRole.Host && string.Equals(HostName, hostName, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override string ToString() => Role == ClusterRole.Api ? "the API" : $"host '{HostName}'";
}
