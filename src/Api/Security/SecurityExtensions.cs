using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Ferry.Api.Security;

internal static partial class SecurityExtensions
{
    public const string RateLimitPolicy = "per-client";

    /// <summary>Picks the API-key or the bearer scheme by what the request presents.</summary>
    public const string SchemeName = "Ferry";

    public static WebApplicationBuilder AddFerrySecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();

        // Registration needs to know whether a JWT issuer is configured; the values are validated on start.
        var jwt = builder.Configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>()?.Jwt ?? new JwtOptions();
        var authentication = builder.Services.AddAuthentication(SchemeName)
            .AddPolicyScheme(SchemeName, "API key or OAuth2 bearer token", o => o.ForwardDefaultSelector = http =>
                jwt.IsConfigured && http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? JwtBearerDefaults.AuthenticationScheme
                    : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        if (jwt.IsConfigured)
        {
            authentication.AddJwtBearer(o => ConfigureJwt(o, jwt));
        }

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Scopes.Read, p => p.AddRequirements(new ScopeRequirement(Scopes.Read)))
            .AddPolicy(Scopes.Migrate, p => p.AddRequirements(new ScopeRequirement(Scopes.Migrate)))
            .AddPolicy(Scopes.Admin, p => p.AddRequirements(new ScopeRequirement(Scopes.Admin)));
        builder.Services.AddRateLimiter(o =>
        {
            o.OnRejected = (ctx, _) =>
            {
                ctx.HttpContext.Response.Headers.RetryAfter = "1";
                return new ValueTask(TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Too many requests", detail: "This client exceeded its request rate; retry shortly.").ExecuteAsync(ctx.HttpContext));
            };

            // Both limits run before authentication: a flood of bad keys costs a counter, not a key lookup
            // (or a token validation), and is refused with 429 before any of them is looked at.
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                if (!http.Request.Path.StartsWithSegments("/api"))
                {
                    return RateLimitPartition.GetNoLimiter("unlimited");
                }

                var perSecond = http.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value.AddressRequestsPerSecond;
                return RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => PerSecond(perSecond));
            });
            o.AddPolicy(RateLimitPolicy, http =>
            {
                var perSecond = http.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value.RequestsPerSecond;
                return RateLimitPartition.GetFixedWindowLimiter(ClientPartition(http), _ => PerSecond(perSecond));
            });
        });
        return builder;
    }

    public static WebApplication UseFerrySecurity(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value.Enabled)
        {
            LogOpen(app.Logger);
        }

        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>Reading needs <c>read</c>; everything else on the group needs <paramref name="write"/>. Checked before the body is read.</summary>
    public static RouteGroupBuilder RequireScopes(this RouteGroupBuilder group, string write)
    {
        group.RequireRateLimiting(RateLimitPolicy);
        ((IEndpointConventionBuilder)group).Add(endpoint =>
        {
            var reads = endpoint.Metadata.OfType<HttpMethodMetadata>().All(m => m.HttpMethods.All(HttpMethods.IsGet));
            endpoint.Metadata.Add(new AuthorizeAttribute(reads ? Scopes.Read : write));
        });
        return group;
    }

    /// <summary>
    /// The client a request speaks for, before it is authenticated: its credential (hashed, so no
    /// secret is kept as a partition key), or its address when it presents none. A valid key is
    /// one client; each bad key is its own, and the address limit catches a flood of them.
    /// </summary>
    private static string ClientPartition(HttpContext http)
    {
        var credential = http.Request.Headers.Authorization.ToString() is { Length: > 0 } authorization
            ? authorization
            : http.Request.Headers["X-Api-Key"].ToString();
        return credential.Length > 0
            ? "credential:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(credential)), 0, 16)
            : "address:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }

    private static FixedWindowRateLimiterOptions PerSecond(int permits) =>
        new() { PermitLimit = permits, Window = TimeSpan.FromSeconds(1), QueueLimit = 0 };

    private static void ConfigureJwt(JwtBearerOptions o, JwtOptions jwt)
    {
        o.MapInboundClaims = false;
        o.Audience = jwt.Audience;
        if (jwt.Authority is { Length: > 0 } authority)
        {
            o.Authority = authority;
        }

        o.TokenValidationParameters.ValidAudience = jwt.Audience;
        if (jwt.SigningKeyFile is { Length: > 0 } file)
        {
            // A key from a file trusts whoever holds its private half, whatever issuer the token names (unless Issuer is set).
            o.TokenValidationParameters.IssuerSigningKey = JwtSigningKey.Read(file);
            o.TokenValidationParameters.ValidateIssuer = jwt.Authority is { Length: > 0 };
        }

        if (jwt.JwksFile is { Length: > 0 } jwksFile)
        {
            o.TokenValidationParameters.IssuerSigningKeys = JwksKeys.ReadFile(jwksFile);
            o.TokenValidationParameters.ValidateIssuer = false;
        }

        if (jwt.JwksUrl is { Length: > 0 } jwksUrl)
        {
            // Keys fetched (and re-fetched when a token names a key not yet seen) through JwtBearer's configuration manager.
            o.ConfigurationManager = new JwksKeys(new Uri(jwksUrl));
            o.TokenValidationParameters.ValidateIssuer = false;
        }

        if (jwt.Issuer is { Length: > 0 } issuer)
        {
            o.TokenValidationParameters.ValidIssuer = issuer;
            o.TokenValidationParameters.ValidateIssuer = true;
        }

        var scopeClaims = jwt.ScopeClaim == "scope" ? new[] { "scope", "scp" } : [jwt.ScopeClaim];

        o.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                // ETSI SOL 013 / RFC 8693: scopes travel space-separated in "scope" ("scp" with some issuers), or in the configured claim.
                var principal = context.Principal!;
                var client = principal.FindFirst("client_id")?.Value ?? principal.FindFirst("azp")?.Value ?? principal.FindFirst("sub")?.Value;
                var scopes = scopeClaims.SelectMany(principal.FindAll)
                    .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    .Where(Scopes.IsKnown).Distinct(StringComparer.Ordinal);
                var claims = new List<Claim> { new(ClaimTypes.Name, "jwt:" + (client ?? "unnamed")) };
                claims.AddRange(scopes.Select(s => new Claim(Scopes.ClaimType, s)));
                context.Principal = new ClaimsPrincipal(new ClaimsIdentity(claims, JwtBearerDefaults.AuthenticationScheme));
                return Task.CompletedTask;
            },
            OnChallenge = context =>
            {
                context.HandleResponse();
                return ApiKeyAuthenticationHandler.Challenge(context.HttpContext);
            },
        };
    }

    [LoggerMessage(EventId = ApiEventIds.AuthenticationOff, Level = LogLevel.Warning, Message = "No REST authentication is configured and Ferry:Security:AllowAnonymous is set: the REST API is open to anyone who can reach it")]
    private static partial void LogOpen(ILogger logger);
}
