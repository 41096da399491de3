using System.Security.Cryptography;
using System.Text;

namespace Ferry.Api.Security;

/// <summary>How a configured API key becomes the SHA-256 presented keys are compared with.</summary>
internal static class ApiKeyHash
{
    public const string Prefix = "sha256:";

    /// <summary>Why <paramref name="configured"/> cannot be a key; null when it can.</summary>
    public static string? Explain(string? configured)
    {
        if (string.IsNullOrEmpty(configured))
        {
            return "is missing.";
        }

        if (configured.StartsWith(Prefix, StringComparison.Ordinal))
        {
            var hex = configured[Prefix.Length..];
            return hex.Length == 64 && hex.All(Uri.IsHexDigit)
                ? null
                : $"starts with '{Prefix}' but is not followed by 64 hex digits (the SHA-256 of the secret); got {hex.Length} characters.";
        }

        if (configured.Length < SecurityOptionsValidator.MinimumKeyLength)
        {
            return $"is {configured.Length} characters long; a key needs at least {SecurityOptionsValidator.MinimumKeyLength}.";
        }

        return configured.Any(c => c is < '!' or > '~')
            ? "holds spaces, control or non-ASCII characters; a key is printable ASCII (it travels in an HTTP header)."
            : null;
    }

    /// <summary>The hash of a valid configured key (checked with <see cref="Explain"/> on start).</summary>
    public static byte[] Of(string configured) =>
        configured.StartsWith(Prefix, StringComparison.Ordinal)
            ? Convert.FromHexString(configured[Prefix.Length..])
            : SHA256.HashData(Encoding.UTF8.GetBytes(configured));
}
