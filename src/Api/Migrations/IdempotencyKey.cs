using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ferry.Api.Migrations;

internal static class IdempotencyKey
{
    public const string Header = "Idempotency-Key";
    public const int MaxLength = 255;

    /// <summary>Keys are opaque to Ferry but must be printable ASCII (they are stored and logged).</summary>
    public static string? Explain(string key) =>
        key.Length is 0 or > MaxLength ? $"must be 1..{MaxLength} characters"
        : key.Any(c => c is < '!' or > '~') ? "must be printable ASCII without spaces"
        : null;

    /// <summary>Whose keys a request's key is among: the authenticated client's, or everyone's while the API is open.</summary>
    public static string ClientOf(ClaimsPrincipal user) => user.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : Anonymous;

    /// <summary>The client of every request while the API runs without authentication.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>A fingerprint of the request's meaning: the same request written differently (field order, spacing) matches.</summary>
    public static string Fingerprint(string operation, object normalizedRequest, JsonSerializerOptions json)
    {
        var bytes = Encoding.UTF8.GetBytes(operation + "\n" + JsonSerializer.Serialize(normalizedRequest, json));
        return Convert.ToHexString(SHA256.HashData(bytes));
    }
}
