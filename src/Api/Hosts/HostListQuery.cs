using Ferry.Api.Http;
using Ferry.Domain.Hosts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Hosts;

/// <summary>
/// The query of <c>GET /api/v1/hosts</c>, bound with <c>[AsParameters]</c>. Its members are spelled as the
/// query string spells them: a validation problem (<c>errors.pageSize</c>) and the OpenAPI document name a
/// parameter by its member's name. Properties, not a positional record: the endpoint code generated at build
/// time (RequestDelegateGenerator) cannot name a positional record's nullable constructor parameters.
/// </summary>
internal sealed record HostListQuery
{
    /// <summary>The state hosts must be in.</summary>
    public string? state { get; init; }

    /// <summary>Hosts per page.</summary>
    public QueryInt? pageSize { get; init; }

    /// <summary>The previous page's <c>nextPageToken</c>: the page starts after that host's name.</summary>
    public string? pageToken { get; init; }

    /// <summary>What the query asks for, or the problem with its first bad parameter (pageSize, state, pageToken).</summary>
    public ValidationProblem? Check(out int size, out HostState? hostState) =>
        Paging.CheckByName(pageSize, state, pageToken, out size, out hostState);
}
