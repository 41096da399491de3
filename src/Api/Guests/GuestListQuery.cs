using Ferry.Api.Http;
using Ferry.Domain.Guests;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Guests;

/// <summary>
/// The query of <c>GET /api/v1/guests</c>, bound with <c>[AsParameters]</c>. Its members are spelled as the
/// query string spells them: a validation problem (<c>errors.pageSize</c>) and the OpenAPI document name a
/// parameter by its member's name. Properties, not a positional record: the endpoint code generated at build
/// time (RequestDelegateGenerator) cannot name a positional record's nullable constructor parameters.
/// </summary>
internal sealed record GuestListQuery
{
    /// <summary>The host, by id or name, guests must be on.</summary>
    public string? host { get; init; }

    /// <summary>The state guests must be in.</summary>
    public string? state { get; init; }

    /// <summary>Guests per page.</summary>
    public QueryInt? pageSize { get; init; }

    /// <summary>The previous page's <c>nextPageToken</c>: the page starts after that guest's name.</summary>
    public string? pageToken { get; init; }

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
