using System.ComponentModel.DataAnnotations;

namespace Ferry.Api.Security;

/// <summary>REST authentication and rate limits, section <c>Ferry:Security</c>.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Ferry:Security";

    /// <summary>Clients and their scopes. None configured: the API is open (a warning is logged at start).</summary>
    public List<ApiKey> ApiKeys { get; set; } = [];

    /// <summary>Requests per second each client (API key, or address when the API is open) may make.</summary>
    [Range(1, 1_000_000)]
    public int RequestsPerSecond { get; set; } = 100;

    public bool Enabled => ApiKeys.Count > 0;
}
