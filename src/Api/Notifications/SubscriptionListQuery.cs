using Ferry.Api.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Notifications;

/// <summary>
/// The query of <c>GET /api/v1/subscriptions</c>, bound with <c>[AsParameters]</c>. Its members are spelled as the
/// query string spells them: a validation problem and the OpenAPI document name a parameter by its member's name.
/// </summary>
internal sealed record SubscriptionListQuery
{
    /// <summary>Subscriptions per page.</summary>
    public QueryInt? pageSize { get; init; }

    /// <summary>The previous page's <c>nextPageToken</c>: the page starts after that subscription's id.</summary>
    public string? pageToken { get; init; }

    /// <summary>What the query asks for, or the problem with its first bad parameter (pageSize, pageToken).</summary>
    public ValidationProblem? Check(out int size, out Guid? after)
    {
        after = null;
        (size, var sizeError) = Paging.Size(pageSize);
        if (sizeError is not null)
        {
            return Problems.Invalid(nameof(pageSize), sizeError);
        }

        if (pageToken is null)
        {
            return null;
        }

        // Version-7 ids grow with creation time: the token is the last id served.
        if (!Guid.TryParse(pageToken, out var id))
        {
            return Problems.Invalid(nameof(pageToken), Paging.UnknownToken);
        }

        after = id;
        return null;
    }
}
