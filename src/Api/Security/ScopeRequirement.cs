using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Ferry.Api.Security;

/// <summary>Met by a client holding a scope that grants <see cref="Scope"/>, or by anyone while the API is open.</summary>
internal sealed class ScopeRequirement(string scope) : AuthorizationHandler<ScopeRequirement>, IAuthorizationRequirement
{
    public string Scope { get; } = scope;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        var open = context.Resource is HttpContext http && !http.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value.Enabled;
        var granting = Scopes.Granting(requirement.Scope);
        if (open || context.User.FindAll(Scopes.ClaimType).Any(c => granting.Contains(c.Value)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
