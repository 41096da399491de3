namespace Ferry.ServiceDefaults.Trust;

/// <summary>What a cluster certificate speaks for.</summary>
public enum ClusterRole
{
    /// <summary>The control plane (every API replica shares this identity).</summary>
    Api,

    /// <summary>One compute host's agent.</summary>
    Host,
}
