namespace Ferry.Api.Security;

/// <summary>
/// OAuth2 bearer tokens (JWT), section <c>Ferry:Security:Jwt</c>, as ETSI SOL 013 expects of an NFV
/// API: an authorization server issues client-credentials tokens whose <c>scope</c> claim holds
/// Ferry's scopes (<c>read</c>, <c>migrate</c>, <c>admin</c>).
/// </summary>
public sealed class JwtOptions
{
    /// <summary>The issuer; its OpenID configuration gives the signing keys (unless <see cref="SigningKeyFile"/> is set).</summary>
    public string? Authority { get; set; }

    /// <summary>The audience tokens must name (this API).</summary>
    public string? Audience { get; set; }

    /// <summary>A PEM file with the issuer's public key (RSA or EC), for an issuer the API cannot or should not reach.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>Whether a JWT configuration is present at all (validated as a whole on start).</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Authority) || !string.IsNullOrWhiteSpace(SigningKeyFile) || !string.IsNullOrWhiteSpace(Audience);
}
