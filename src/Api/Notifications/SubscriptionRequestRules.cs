using Ferry.Api.Http;
using Ferry.Api.Migrations;
using Ferry.Domain.Guests;

namespace Ferry.Api.Notifications;

/// <summary>Checks a subscription request and normalizes it: hostile or meaningless input is refused before anything is sent or stored.</summary>
internal static class SubscriptionRequestRules
{
    public const int MaxUriLength = 2048;
    public const int MaxFilterEntries = 100;
    public const int MaxSecretLength = 1024;

    /// <summary>The normalized filter and authentication, with the errors per field (empty when valid).</summary>
    public static (SubscriptionFilter Filter, SubscriptionAuthentication? Authentication, string Verbosity, Uri? Callback) Check(
        CreateSubscriptionRequest request, Dictionary<string, string> errors)
    {
        var callback = CheckUri(request.CallbackUri, "callbackUri", errors, required: true);
        var verbosity = request.Verbosity ?? SubscriptionVerbosity.Full;
        if (verbosity is not (SubscriptionVerbosity.Full or SubscriptionVerbosity.Short))
        {
            errors["verbosity"] = "must be FULL or SHORT";
        }

        var f = request.Filter;
        var guests = List(f?.Guests, "filter.guests", errors, g => Identifier.Parse(g).Error,
            g => Identifier.Parse(g).Value is { Id: { } id } ? id.ToString() : g);
        var vnfs = List(f?.VnfInstanceIds, "filter.vnfInstanceIds", errors, Guest.ExplainCorrelationId, v => v);
        var types = List(f?.NotificationTypes, "filter.notificationTypes", errors,
            t => t == MigrationOccurrenceNotification.Type ? null : $"must be {MigrationOccurrenceNotification.Type}", t => t);
        var states = List(f?.OperationStates, "filter.operationStates", errors,
            s => OperationStates.All.Contains(s) ? null : $"must be among {string.Join(", ", OperationStates.All)}", s => s);
        var filter = new SubscriptionFilter(guests, vnfs, types, states);
        return (filter, CheckAuthentication(request.Authentication, errors), verbosity, callback);
    }

    private static SubscriptionAuthentication? CheckAuthentication(SubscriptionAuthentication? a, Dictionary<string, string> errors)
    {
        if (a is null)
        {
            return null;
        }

        if (a.AuthType is not { Count: 1 } types || types[0] is not (SubscriptionAuthentication.Basic or SubscriptionAuthentication.OAuth2ClientCredentials))
        {
            errors["authentication.authType"] = $"must be [\"{SubscriptionAuthentication.Basic}\"] or [\"{SubscriptionAuthentication.OAuth2ClientCredentials}\"]";
            return null;
        }

        if (types[0] == SubscriptionAuthentication.Basic)
        {
            if (a.ParamsBasic is not { UserName: { Length: > 0 and <= MaxSecretLength } user, Password: { Length: <= MaxSecretLength } password }
                || user.Contains(':') || user.Any(char.IsControl) || password.Any(char.IsControl))
            {
                errors["authentication.paramsBasic"] = $"needs userName (without ':') and password, each at most {MaxSecretLength} characters without control characters";
                return null;
            }

            return new([SubscriptionAuthentication.Basic], new(user, password), null);
        }

        if (a.ParamsOauth2ClientCredentials is not { ClientId: { Length: > 0 and <= MaxSecretLength } id, ClientPassword: { Length: <= MaxSecretLength } secret } o
            || id.Any(char.IsControl) || secret.Any(char.IsControl))
        {
            errors["authentication.paramsOauth2ClientCredentials"] = $"needs clientId, clientPassword and tokenEndpoint, each at most {MaxSecretLength} characters without control characters";
            return null;
        }

        var endpoint = CheckUri(o.TokenEndpoint, "authentication.paramsOauth2ClientCredentials.tokenEndpoint", errors, required: true);
        return endpoint is null ? null : new([SubscriptionAuthentication.OAuth2ClientCredentials], null, new(id, secret, endpoint.ToString()));
    }

    private static Uri? CheckUri(string? text, string field, Dictionary<string, string> errors, bool required)
    {
        if (string.IsNullOrEmpty(text))
        {
            if (required)
            {
                errors[field] = "is required";
            }

            return null;
        }

        if (text.Length > MaxUriLength || !Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Fragment))
        {
            errors[field] = $"must be an absolute http or https URI of at most {MaxUriLength} characters, without user info or fragment";
            return null;
        }

        return uri;
    }

    private static List<string>? List(IReadOnlyList<string>? values, string field, Dictionary<string, string> errors,
        Func<string, string?> explain, Func<string, string> normalize)
    {
        if (values is null)
        {
            return null;
        }

        if (values.Count is 0 or > MaxFilterEntries)
        {
            errors[field] = $"must hold 1..{MaxFilterEntries} entries, or be absent";
            return null;
        }

        if (values.Any(v => v is null))
        {
            errors[field] = "must not hold null";
            return null;
        }

        if (values.FirstOrDefault(v => explain(v) is not null) is { } bad)
        {
            errors[field] = $"'{(bad.Length <= 64 ? bad : bad[..64] + "…")}' {explain(bad)}";
            return null;
        }

        // Sorted and distinct: the same filter written in another order is the same subscription.
        return values.Select(normalize).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }
}
