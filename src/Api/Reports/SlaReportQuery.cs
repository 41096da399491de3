using Ferry.Api.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Reports;

/// <summary>
/// The query of <c>GET /api/v1/reports/sla</c>, bound with <c>[AsParameters]</c>. Its members are spelled as the
/// query string spells them: a validation problem and the OpenAPI document name a parameter by its member's name.
/// </summary>
internal sealed record SlaReportQuery
{
    /// <summary>Migrations created at or after.</summary>
    public QueryTime? from { get; init; }

    /// <summary>Migrations created before.</summary>
    public QueryTime? to { get; init; }

    /// <summary>A host, by id or name, that is the source or the target.</summary>
    public string? host { get; init; }

    /// <summary>What the query asks for, or the problem with its first bad parameter (from, host).</summary>
    public ValidationProblem? Check(out Identifier? onHost)
    {
        onHost = null;
        if (QueryTime.CheckRange(from, to) is var (field, rangeError))
        {
            return Problems.Invalid(field, rangeError);
        }

        if (host is null)
        {
            return null;
        }

        (onHost, var error) = Identifier.Parse(host);
        return onHost is null ? Problems.Invalid(nameof(host), error!) : null;
    }
}
