using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Ferry.Api.Security;

internal static partial class SecurityExtensions
{
    public const string RateLimitPolicy = "per-client";

    public static WebApplicationBuilder AddFerrySecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.ApiKeys.All(k => k.Name.Length > 0 && k.Key.Length >= 16 && k.Scopes.Count > 0 && k.Scopes.All(Scopes.IsKnown)),
                "every API key needs a name, a key of at least 16 characters and known scopes (read, migrate, admin)")
            .ValidateOnStart();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Scopes.Read, p => p.AddRequirements(new ScopeRequirement(Scopes.Read)))
            .AddPolicy(Scopes.Migrate, p => p.AddRequirements(new ScopeRequirement(Scopes.Migrate)))
            .AddPolicy(Scopes.Admin, p => p.AddRequirements(new ScopeRequirement(Scopes.Admin)));
        builder.Services.AddRateLimiter(o =>
        {
            o.OnRejected = (ctx, _) => new ValueTask(TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many requests", detail: "This client exceeded its request rate; retry shortly.").ExecuteAsync(ctx.HttpContext));
            o.AddPolicy(RateLimitPolicy, http =>
            {
                var perSecond = http.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value.RequestsPerSecond;
                var client = http.User.Identity?.Name ?? http.Connection.RemoteIpAddress?.ToString() ?? "anonymous";
                return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = perSecond, Window = TimeSpan.FromSeconds(1), QueueLimit = 0,
                });
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

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
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

    [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "No API keys are configured (Ferry:Security:ApiKeys): the REST API is open to anyone who can reach it")]
    private static partial void LogOpen(ILogger logger);
}
