using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Ferry.Api.Security;

/// <summary>
/// Authenticates REST clients by API key, sent as <c>Authorization: ApiKey &lt;key&gt;</c> or
/// <c>X-Api-Key</c>. Keys are compared by their SHA-256 in constant time.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IOptions<SecurityOptions> security)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    private readonly (ApiKey Client, byte[] Hash)[] _keys = security.Value.ApiKeys.Select(k => (k, ApiKeyHash.Of(k.Key))).ToArray();

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Presented();
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        foreach (var (client, expected) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, expected))
            {
                var claims = new List<Claim> { new(ClaimTypes.Name, client.Name) };
                claims.AddRange(client.Scopes.Select(s => new Claim(Scopes.ClaimType, s)));
                var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
                return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
            }
        }

        return Task.FromResult(AuthenticateResult.Fail("unknown API key"));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => Challenge(Context);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
            detail: "This API key lacks the scope this operation needs.").ExecuteAsync(Context);

    /// <summary>The 401 of every scheme: a problem that says which credentials the API takes.</summary>
    public static Task Challenge(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = context.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value.Jwt.IsConfigured
            ? $"{SchemeName}, Bearer"
            : SchemeName;
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
            detail: "Send an API key as 'Authorization: ApiKey <key>' or 'X-Api-Key: <key>', or an OAuth2 token as 'Authorization: Bearer <token>' where one is configured.")
            .ExecuteAsync(context);
    }

    private string? Presented()
    {
        if (Request.Headers.Authorization.ToString() is { Length: > 0 } authorization
            && authorization.StartsWith(SchemeName + " ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization[(SchemeName.Length + 1)..].Trim();
        }

        return Request.Headers["X-Api-Key"].ToString() is { Length: > 0 } key ? key : null;
    }
}
