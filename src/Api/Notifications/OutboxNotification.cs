namespace Ferry.Api.Notifications;

/// <summary>
/// One notification to one subscriber, written in the transaction that changed the migration's state
/// (<see cref="Persistence.FerryDbContext"/>) and deleted once the subscriber answered 2xx. <see cref="Id"/> is
/// taken under the event log's lock, so it orders the notifications of a migration as their changes committed;
/// <see cref="NotificationId"/> is what the subscriber sees and keeps across retries.
/// </summary>
internal sealed class OutboxNotification
{
    public long Id { get; set; }

    public Guid NotificationId { get; set; }

    public Guid SubscriptionId { get; set; }

    public Guid MigrationId { get; set; }

    /// <summary>When the state changed (the notification's <c>timeStamp</c>).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the delivery window began (the change, or a redelivery request); dead-lettered once it is older than the maximum age.</summary>
    public DateTimeOffset WindowStart { get; set; }

    /// <summary>Not before this time: the backoff after a failure, or the claim's lease while an attempt runs.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>When it was given up on; null while it is being delivered.</summary>
    public DateTimeOffset? DeadAt { get; set; }

    public string? LastError { get; set; }

    /// <summary>The state change as <see cref="NotificationEvent"/> JSON; the subscription's parts are added when sent.</summary>
    public string Payload { get; set; } = "";
}
