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

    /// <summary>The issuer tokens must name (<c>iss</c>); checked whenever set (with <see cref="Authority"/>, its discovery document names it).</summary>
    public string? Issuer { get; set; }

    /// <summary>Where the issuer publishes its signing keys as a JSON Web Key Set (RFC 7517), for an issuer without OpenID discovery; https, or http on loopback.</summary>
    public string? JwksUrl { get; set; }

    /// <summary>A file holding the issuer's JSON Web Key Set, for an issuer the API cannot or should not reach.</summary>
    public string? JwksFile { get; set; }

    /// <summary>
    /// The claim holding Ferry's scopes (space-separated or one per claim), e.g. <c>roles</c> or <c>ferry_scopes</c> for an
    /// issuer that cannot put them in <c>scope</c>. Default: <c>scope</c>, and <c>scp</c> as some issuers name it.
    /// </summary>
    public string ScopeClaim { get; set; } = "scope";

    /// <summary>Whether a JWT configuration is present at all (validated as a whole on start).</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Authority) || !string.IsNullOrWhiteSpace(SigningKeyFile) || !string.IsNullOrWhiteSpace(Audience)
        || !string.IsNullOrWhiteSpace(JwksUrl) || !string.IsNullOrWhiteSpace(JwksFile);
}
