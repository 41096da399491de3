using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace Ferry.Api.Notifications;

/// <summary>
/// Encrypts a subscription's authentication (passwords, client secrets) before it is stored, with ASP.NET Core
/// Data Protection whose key ring lives in PostgreSQL (<see cref="Persistence.PostgresXmlRepository"/>): a dump
/// of the subscriptions table alone does not give away a subscriber's credentials.
/// </summary>
internal sealed class SubscriptionSecrets(IDataProtectionProvider provider)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly IDataProtector _protector = provider.CreateProtector("Ferry.Notifications.SubscriptionAuthentication.v1");

    public string? Protect(SubscriptionAuthentication? authentication) =>
        authentication is null ? null : _protector.Protect(JsonSerializer.Serialize(authentication, Json));

    public SubscriptionAuthentication? Unprotect(string? stored) =>
        stored is null ? null : JsonSerializer.Deserialize<SubscriptionAuthentication>(_protector.Unprotect(stored), Json);
}
