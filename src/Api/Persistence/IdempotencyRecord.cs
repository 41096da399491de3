namespace Ferry.Api.Persistence;

/// <summary>
/// The response given to a request that carried an <c>Idempotency-Key</c>, so that a replay
/// with the same body gets the same response and a replay with another body is refused. Kept for
/// <c>Ferry:Idempotency:Lifetime</c>, then forgotten.
/// </summary>
internal sealed class IdempotencyRecord
{
    /// <summary>The client that sent the key: keys are scoped to their client.</summary>
    public required string Client { get; init; }

    public required string Key { get; init; }

    /// <summary>SHA-256 of the request's method, path and canonical body.</summary>
    public required string RequestHash { get; init; }

    public required int StatusCode { get; init; }

    public required string ResponseBody { get; init; }

    public string? Location { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}
