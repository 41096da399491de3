namespace Ferry.Api.Security;

/// <summary>One client allowed to call the REST API.</summary>
public sealed class ApiKey
{
    /// <summary>Who the client is (logged, used to partition rate limits).</summary>
    public string Name { get; set; } = "";

    /// <summary>The secret, or <c>sha256:&lt;hex&gt;</c> of it so that configuration need not hold the secret itself.</summary>
    public string Key { get; set; } = "";

    /// <summary>What the client may do: <c>read</c>, <c>migrate</c> (includes read), <c>admin</c> (includes both).</summary>
    public List<string> Scopes { get; set; } = [];
}
