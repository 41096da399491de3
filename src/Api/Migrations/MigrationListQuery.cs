using Ferry.Api.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Migrations;

/// <summary>
/// The query of <c>GET /api/v1/migrations</c>, bound with <c>[AsParameters]</c>. Its members are spelled as the
/// query string spells them: a binding error ("Failed to bind parameter "Nullable&lt;int&gt; pageSize"") and
/// the OpenAPI document name a parameter by its member's name.
/// </summary>
/// <param name="state">The state migrations are in now.</param>
/// <param name="host">A host, by id or name, that is the source or the target.</param>
/// <param name="guest">The guest, by id or name.</param>
/// <param name="from">Created at or after.</param>
/// <param name="to">Created before.</param>
/// <param name="pageSize">Migrations per page.</param>
/// <param name="pageToken">The previous page's <c>nextPageToken</c>.</param>
/// <param name="vnfInstanceId">The guest's VNF instance id when the migration was requested.</param>
internal sealed record MigrationListQuery(string? state, string? host, string? guest, DateTimeOffset? from, DateTimeOffset? to,
    int? pageSize, string? pageToken, string? vnfInstanceId)
{
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
