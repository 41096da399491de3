namespace Ferry.Api.Agents;

/// <summary>Where the agents say a migrating guest is, when the API has to ask them.</summary>
internal enum GuestPlace
{
    /// <summary>Neither agent answered, or neither runs it: ask again later.</summary>
    Unknown,

    /// <summary>The source runs it: the migration never took it over.</summary>
    Source,

    /// <summary>The source paused it for switch-over: it can only finish on the target.</summary>
    PastThePause,

    /// <summary>The target runs it: the switch-over happened.</summary>
    Target,
}
