namespace Ferry.Api.Notifications;

/// <summary>A subscription to migration notifications (SOL 003 <c>LccnSubscriptionRequest</c>).</summary>
/// <param name="CallbackUri">Where notifications are POSTed (http or https). Ferry sends it a GET first and needs 204 within 5 s.</param>
/// <param name="Filter">Which notifications; absent: all.</param>
/// <param name="Authentication">How Ferry authenticates to the callback; never shown or logged.</param>
/// <param name="Verbosity"><c>FULL</c> (default: with the result) or <c>SHORT</c>.</param>
public sealed record CreateSubscriptionRequest(string? CallbackUri, SubscriptionFilter? Filter, SubscriptionAuthentication? Authentication,
    string? Verbosity);

/// <summary>Which notifications a subscription receives; every list given must match, an absent one matches all.</summary>
/// <param name="Guests">Guest ids or names.</param>
/// <param name="VnfInstanceIds">VNF instance ids of the guests.</param>
/// <param name="NotificationTypes"><c>MigrationOccurrenceNotification</c>.</param>
/// <param name="OperationStates">STARTING, PROCESSING, COMPLETED, FAILED, ROLLED_BACK.</param>
public sealed record SubscriptionFilter(IReadOnlyList<string>? Guests, IReadOnlyList<string>? VnfInstanceIds,
    IReadOnlyList<string>? NotificationTypes, IReadOnlyList<string>? OperationStates);

/// <summary>SOL 013 <c>SubscriptionAuthentication</c>: how Ferry authenticates to the callback.</summary>
/// <param name="AuthType"><c>["BASIC"]</c> or <c>["OAUTH2_CLIENT_CREDENTIALS"]</c>.</param>
/// <param name="ParamsBasic">For BASIC.</param>
/// <param name="ParamsOauth2ClientCredentials">For OAUTH2_CLIENT_CREDENTIALS.</param>
public sealed record SubscriptionAuthentication(IReadOnlyList<string>? AuthType, BasicAuthenticationParams? ParamsBasic,
    OAuth2ClientCredentialsParams? ParamsOauth2ClientCredentials)
{
    public const string Basic = "BASIC";
    public const string OAuth2ClientCredentials = "OAUTH2_CLIENT_CREDENTIALS";
}

/// <summary>HTTP Basic credentials for the callback.</summary>
public sealed record BasicAuthenticationParams(string? UserName, string? Password);

/// <summary>OAuth2 client credentials: Ferry fetches a token from <c>tokenEndpoint</c> and sends it as a bearer token.</summary>
public sealed record OAuth2ClientCredentialsParams(string? ClientId, string? ClientPassword, string? TokenEndpoint);
