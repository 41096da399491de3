using System.Text.Json.Serialization;
using Ferry.Api.Http;

namespace Ferry.Api.Notifications;

/// <summary>A subscription as the API shows it (SOL 003 <c>LccnSubscription</c>), without its authentication, and how its deliveries fare.</summary>
/// <param name="Id">Its id.</param>
/// <param name="CallbackUri">Where notifications go.</param>
/// <param name="Filter">Which notifications it receives (normalized: sorted, guest ids lowercase).</param>
/// <param name="Verbosity">FULL or SHORT.</param>
/// <param name="Links">Itself.</param>
/// <param name="Delivery">Health of its deliveries.</param>
public sealed record SubscriptionView(Guid Id, string CallbackUri, SubscriptionFilter Filter, string Verbosity,
    [property: JsonPropertyName("_links")] SubscriptionLinks Links, DeliveryHealth Delivery);

/// <summary>A subscription's links.</summary>
public sealed record SubscriptionLinks(Link Self);

/// <summary>How a subscription's deliveries fare.</summary>
/// <param name="Pending">Notifications not yet delivered (retrying or waiting for an earlier one of the same migration).</param>
/// <param name="DeadLettered">Notifications given up on after the maximum age; <c>POST …/redeliver</c> retries them.</param>
/// <param name="LastAttemptAt">When the last attempt ended.</param>
/// <param name="LastError">Why the last attempt failed; null after a success.</param>
/// <param name="FailedSince">Since when every attempt has failed; null while deliveries succeed.</param>
public sealed record DeliveryHealth(int Pending, int DeadLettered, DateTimeOffset? LastAttemptAt, string? LastError, DateTimeOffset? FailedSince);

/// <summary>What a redelivery request put back into delivery.</summary>
/// <param name="Redelivered">Dead-lettered notifications now retried.</param>
public sealed record RedeliveryView(int Redelivered);
