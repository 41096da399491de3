using Ferry.Api.Http;
using Ferry.Domain.Hosts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Hosts;

/// <summary>
/// The query of <c>GET /api/v1/hosts</c>, bound with <c>[AsParameters]</c>. Its members are spelled as the
/// query string spells them: a binding error ("Failed to bind parameter "Nullable&lt;int&gt; pageSize"") and
/// the OpenAPI document name a parameter by its member's name.
/// </summary>
/// <param name="state">The state hosts must be in.</param>
/// <param name="pageSize">Hosts per page.</param>
/// <param name="pageToken">The previous page's <c>nextPageToken</c>: the page starts after that host's name.</param>
internal sealed record HostListQuery(string? state, int? pageSize, string? pageToken)
{
    /// <summary>What the query asks for, or the problem with its first bad parameter (pageSize, state, pageToken).</summary>
    public ValidationProblem? Check(out int size, out HostState? hostState) =>
        Paging.CheckByName(pageSize, state, pageToken, out size, out hostState);
}
