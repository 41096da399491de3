using System.Text.Json.Serialization;
using Ferry.Api.Http;
using Ferry.Api.Migrations;

namespace Ferry.Api.Notifications;

/// <summary>
/// The body Ferry POSTs to a subscriber's callback: SOL 003's <c>VnfLcmOperationOccurrenceNotification</c>
/// field names for a migration, which ETSI defines no operation for.
/// </summary>
/// <param name="Id">The notification's id; the same across retries, so a receiver deduplicates on it.</param>
/// <param name="NotificationType">Always <c>MigrationOccurrenceNotification</c>.</param>
/// <param name="SubscriptionId">The subscription it was sent for.</param>
/// <param name="TimeStamp">When the migration changed state.</param>
/// <param name="NotificationStatus"><c>START</c> when the migration enters STARTING or PROCESSING, <c>RESULT</c> when it ends.</param>
/// <param name="OperationState">STARTING, PROCESSING, COMPLETED, FAILED or ROLLED_BACK.</param>
/// <param name="MigrationId">The migration.</param>
/// <param name="Guest">The guest's name.</param>
/// <param name="VnfInstanceId">The guest's VNF instance id, if it has one.</param>
/// <param name="VnfcInstanceId">The guest's VNFC instance id, if it has one.</param>
/// <param name="SourceHost">Where the guest ran.</param>
/// <param name="TargetHost">Where it goes (null until chosen).</param>
/// <param name="Result">The measurements of a completed migration (FULL verbosity only).</param>
/// <param name="Error">Problem details of a FAILED or ROLLED_BACK migration.</param>
/// <param name="Links">The subscription and the migration.</param>
public sealed record MigrationOccurrenceNotification(Guid Id, string NotificationType, Guid SubscriptionId, DateTimeOffset TimeStamp,
    string NotificationStatus, string OperationState, Guid MigrationId, string Guest, string? VnfInstanceId, string? VnfcInstanceId,
    string SourceHost, string? TargetHost, ResultView? Result, NotificationError? Error,
    [property: JsonPropertyName("_links")] NotificationLinks Links)
{
    public const string Type = "MigrationOccurrenceNotification";

    internal static MigrationOccurrenceNotification From(Guid id, Guid subscriptionId, string verbosity, NotificationEvent e) =>
        new(id, Type, subscriptionId, e.TimeStamp, e.NotificationStatus, e.OperationState, e.MigrationId, e.Guest, e.VnfInstanceId,
            e.VnfcInstanceId, e.SourceHost, e.TargetHost, verbosity == SubscriptionVerbosity.Full ? e.Result : null, e.Error,
            new(new($"/api/v1/subscriptions/{subscriptionId}"), new($"/api/v1/migrations/{e.MigrationId}")));
}

/// <summary>A notification's links.</summary>
public sealed record NotificationLinks(Link Subscription, Link Migration);
