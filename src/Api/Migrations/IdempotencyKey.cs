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

    /// <summary>A fingerprint of the request's meaning: the same request written differently (field order, spacing) matches.</summary>
    public static string Fingerprint(string operation, object normalizedRequest, JsonSerializerOptions json)
    {
        var bytes = Encoding.UTF8.GetBytes(operation + "\n" + JsonSerializer.Serialize(normalizedRequest, json));
        return Convert.ToHexString(SHA256.HashData(bytes));
    }
}
