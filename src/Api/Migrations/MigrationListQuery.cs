using Ferry.Api.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Migrations;

/// <summary>
/// The query of <c>GET /api/v1/migrations</c>, bound with <c>[AsParameters]</c>. Its members are spelled as the
/// query string spells them: a validation problem (<c>errors.pageSize</c>) and the OpenAPI document name a
/// parameter by its member's name. Properties, not a positional record: the endpoint code generated at build
/// time (RequestDelegateGenerator) cannot name a positional record's nullable constructor parameters.
/// </summary>
internal sealed record MigrationListQuery
{
    /// <summary>The state migrations are in now.</summary>
    public string? state { get; init; }

    /// <summary>A host, by id or name, that is the source or the target.</summary>
    public string? host { get; init; }

    /// <summary>The guest, by id or name.</summary>
    public string? guest { get; init; }

    /// <summary>Created at or after.</summary>
    public QueryTime? from { get; init; }

    /// <summary>Created before.</summary>
    public QueryTime? to { get; init; }

    /// <summary>Migrations per page.</summary>
    public QueryInt? pageSize { get; init; }

    /// <summary>The previous page's <c>nextPageToken</c>.</summary>
    public string? pageToken { get; init; }

    /// <summary>The guest's VNF instance id when the migration was requested.</summary>
    public string? vnfInstanceId { get; init; }

    /// <summary>What the query asks for, or the problem that names every bad parameter at once.</summary>
    public ValidationProblem? Check(out int size, out PageToken? after, out MigrationFilter filter)
    {
        var errors = new Dictionary<string, string>();
        (size, var sizeError) = Paging.Size(pageSize);
        if (sizeError is not null)
        {
            errors[nameof(pageSize)] = sizeError;
        }

        after = null;
        if (pageToken is not null && !PageToken.TryParse(pageToken, out after))
        {
            errors[nameof(pageToken)] = Paging.UnknownToken;
        }

        filter = MigrationFilter.Parse(state, host, guest, from, to, errors, vnfInstanceId);
        return errors.Count > 0 ? Problems.Invalid(errors) : null;
    }
}
