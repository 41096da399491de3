namespace Ferry.Api.Notifications;

/// <summary>
/// A client's subscription to migration notifications (ETSI SOL 003 <c>LccnSubscription</c>, with Ferry's own
/// notification type), and the health of its deliveries. The filter is kept twice: as the client gave it
/// (<see cref="FilterJson"/>, normalized, also the key that finds a duplicate) and as arrays the outbox insert
/// matches events against in SQL.
/// </summary>
internal sealed class Subscription
{
    public Guid Id { get; set; }

    /// <summary>The API client that made it (<see cref="Migrations.IdempotencyKey.ClientOf"/>); no other client sees it.</summary>
    public string Owner { get; set; } = "";

    public string CallbackUri { get; set; } = "";

    /// <summary>The filter as normalized JSON: equal filters are equal strings.</summary>
    public string FilterJson { get; set; } = "{}";

    /// <summary>Guest ids (lowercase, hyphenated) and names; null matches every guest.</summary>
    public string[]? FilterGuests { get; set; }

    public string[]? FilterVnfInstanceIds { get; set; }

    public string[]? FilterNotificationTypes { get; set; }

    public string[]? FilterOperationStates { get; set; }

    /// <summary><c>FULL</c> or <c>SHORT</c>.</summary>
    public string Verbosity { get; set; } = SubscriptionVerbosity.Full;

    /// <summary>The authentication to use towards the callback, as JSON encrypted with Data Protection; null for none. Never shown.</summary>
    public string? ProtectedAuthentication { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the last delivery attempt to this subscriber ended.</summary>
    public DateTimeOffset? LastAttemptAt { get; set; }

    /// <summary>Why the last attempt failed; null after a success.</summary>
    public string? LastError { get; set; }

    /// <summary>Since when every attempt has failed; null while deliveries succeed.</summary>
    public DateTimeOffset? FailedSince { get; set; }

    /// <summary>Attempts failed in a row, for the subscriber's backoff.</summary>
    public int ConsecutiveFailures { get; set; }

    /// <summary>No attempt to this subscriber before this time (its backoff); null when not backing off.</summary>
    public DateTimeOffset? RetryAt { get; set; }
}
