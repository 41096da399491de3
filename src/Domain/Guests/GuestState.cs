namespace Ferry.Domain.Guests;

/// <summary>Lifecycle of a guest as the control plane knows it.</summary>
public enum GuestState
{
    /// <summary>Defined but not known to run.</summary>
    Defined,

    /// <summary>Running on its current host.</summary>
    Running,

    /// <summary>A migration of it is in progress.</summary>
    Migrating,

    /// <summary>Stopped on its current host.</summary>
    Stopped,
}
