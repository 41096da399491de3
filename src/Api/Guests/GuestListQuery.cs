using Ferry.Api.Http;
using Ferry.Domain.Guests;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Guests;

/// <summary>
/// The query of <c>GET /api/v1/guests</c>, bound with <c>[AsParameters]</c>. Its members are spelled as the
/// query string spells them: a binding error ("Failed to bind parameter "Nullable&lt;int&gt; pageSize"") and
/// the OpenAPI document name a parameter by its member's name.
/// </summary>
/// <param name="host">The host, by id or name, guests must be on.</param>
/// <param name="state">The state guests must be in.</param>
/// <param name="pageSize">Guests per page.</param>
/// <param name="pageToken">The previous page's <c>nextPageToken</c>: the page starts after that guest's name.</param>
internal sealed record GuestListQuery(string? host, string? state, int? pageSize, string? pageToken)
{
    /// <summary>What the query asks for, or the problem with its first bad parameter (pageSize, state, pageToken, host).</summary>
    public ValidationProblem? Check(out int size, out GuestState? guestState, out Identifier? onHost)
    {
        onHost = null;
        if (Paging.CheckByName(pageSize, state, pageToken, out size, out guestState) is { } problem)
        {
            return problem;
        }

        if (host is null)
        {
            return null;
        }

        (onHost, var hostError) = Identifier.Parse(host);
        return onHost is null ? Problems.Invalid(nameof(host), hostError!) : null;
    }
}
