namespace Ferry.Domain.Hosts;

/// <summary>Whether a host takes part in migrations.</summary>
public enum HostState
{
    /// <summary>Heartbeating and accepting guests.</summary>
    Ready,

    /// <summary>An operator asked that no new guests be placed on it; its guests may still leave.</summary>
    Draining,

    /// <summary>Its agent stopped heartbeating.</summary>
    Down,
}
