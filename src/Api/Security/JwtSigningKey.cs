using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Ferry.Api.Security;

/// <summary>The token issuer's public key, read from a PEM file (RSA or EC).</summary>
internal static class JwtSigningKey
{
    /// <summary>Why <paramref name="path"/> holds no usable key; null when it does.</summary>
    public static string? Explain(string path)
    {
        try
        {
            using var key = Load(path);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
        {
            return $"'{path}' holds no RSA or EC public key in PEM: {e.Message}";
        }
    }

    /// <summary>The key as a token-validation key.</summary>
    public static SecurityKey Read(string path)
    {
        var pem = File.ReadAllText(path);
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (ArgumentException)
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
    }

    private static IDisposable Load(string path)
    {
        var pem = File.ReadAllText(path);
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return rsa;
        }
        catch (ArgumentException)
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return ec;
        }
    }
}
