using System.ComponentModel.DataAnnotations;

namespace Ferry.Api.Security;

/// <summary>REST authentication and rate limits, section <c>Ferry:Security</c>.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Ferry:Security";

    /// <summary>Clients and their scopes.</summary>
    public List<ApiKey> ApiKeys { get; set; } = [];

    /// <summary>OAuth2 client-credentials tokens (JWT bearer), beside or instead of API keys.</summary>
    public JwtOptions Jwt { get; set; } = new();

    /// <summary>
    /// Lets the API start with no API key and no JWT configuration, open to anyone who can reach it.
    /// Off by default: without any authentication configured the API refuses to start.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Requests per second each authenticated client (API key or token subject) may make.</summary>
    [Range(1, 1_000_000)]
    public int RequestsPerSecond { get; set; } = 100;

    /// <summary>
    /// Requests per second one network address may make to <c>/api</c>, counted before anything
    /// is authenticated: a flood of bad keys is refused before a key is looked at.
    /// </summary>
    [Range(1, 1_000_000)]
    public int AddressRequestsPerSecond { get; set; } = 1000;

    /// <summary>Whether any authentication is configured (otherwise the API is open, which <see cref="AllowAnonymous"/> must allow).</summary>
    public bool Enabled => ApiKeys.Count > 0 || Jwt.IsConfigured;
}
