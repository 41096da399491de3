using Ferry.Api.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Reports;

/// <summary>
/// The query of <c>GET /api/v1/reports/sla</c>, bound with <c>[AsParameters]</c>. Its members are spelled as the
/// query string spells them: a binding error and the OpenAPI document name a parameter by its member's name.
/// </summary>
/// <param name="from">Migrations created at or after.</param>
/// <param name="to">Migrations created before.</param>
/// <param name="host">A host, by id or name, that is the source or the target.</param>
internal sealed record SlaReportQuery(DateTimeOffset? from, DateTimeOffset? to, string? host)
{
    /// <summary>What the query asks for, or the problem with its first bad parameter (from, host).</summary>
    public ValidationProblem? Check(out Identifier? onHost)
    {
        onHost = null;
        if (from > to)
        {
            return Problems.Invalid(nameof(from), "must not be after 'to'");
        }

        if (host is null)
        {
            return null;
        }

        (onHost, var error) = Identifier.Parse(host);
        return onHost is null ? Problems.Invalid(nameof(host), error!) : null;
    }
}
