namespace Ferry.Agent;

/// <summary>Why the agent refuses a request it understood: the gRPC edge turns it into a status code.</summary>
public enum Refusal
{
    /// <summary>What the request names is not on this host (a guest, a migration).</summary>
    NotFound,

    /// <summary>The host is not in a state to do it (a guest not running, a migration already under way).</summary>
    FailedPrecondition,

    /// <summary>Something the answer depends on did not answer in time; asking again may work.</summary>
    Unavailable,

    /// <summary>What the request would create is there already (a guest whose QEMU runs).</summary>
    AlreadyExists,
}

/// <summary>
/// An expected refusal from one of the agent's services. Services throw it instead of gRPC's own
/// exception, so they stay free of the transport they are called over; <c>AgentExceptionInterceptor</c>
/// maps it to NOT_FOUND, FAILED_PRECONDITION, UNAVAILABLE or ALREADY_EXISTS.
/// </summary>
public sealed class RequestRefusedException(Refusal refusal, string message, Exception? innerException = null) : Exception(message, innerException)
{
    public Refusal Refusal { get; } = refusal;
}
