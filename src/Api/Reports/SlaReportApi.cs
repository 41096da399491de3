using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Api.Security;
using Ferry.Domain.Migrations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Reports;

internal static class SlaReportApi
{
    public static RouteGroupBuilder MapReportsApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/reports").WithTags("Reports").RequireScopes(Scopes.Admin);
        api.MapGet("/sla", Get).WithSummary("SLA report of finished migrations: success rate, downtime and total-time percentiles, overall and per host pair.");
        return api;
    }

    private static async Task<Results<Ok<SlaReport>, ValidationProblem>> Get(FerryDbContext db,
        [AsParameters] SlaReportQuery query, CancellationToken ct)
    {
        if (query.Check(out var onHost) is { } problem)
        {
            return problem;
        }

        // PostgreSQL's timestamptz parameters are UTC.
        var (from, to, host) = (query.from?.Value?.ToUniversalTime(), query.to?.Value?.ToUniversalTime(), query.host);
        var (hostId, hostName) = (onHost?.Id, onHost?.Name);

        string completed = nameof(MigrationState.Completed), failed = nameof(MigrationState.Failed), cancelled = nameof(MigrationState.Cancelled);
        // Columns are snake_case: the naming convention maps them to Row's properties. One scan, both the overall row and the per-pair rows, percentiles computed by PostgreSQL.
        var rows = await db.Database.SqlQuery<Row>($"""
            WITH finished AS (
                SELECT source_host_name, target_host_name, state, sla_met,
                       (result->>'totalTimeMs')::float8 AS total_ms,
                       COALESCE((result->>'networkDowntimeMs')::float8, (result->>'downtimeMs')::float8) AS downtime_ms
                FROM migrations
                WHERE state IN ({completed}, {failed}, {cancelled})
                  AND ({from}::timestamptz IS NULL OR created_at >= {from})
                  AND ({to}::timestamptz IS NULL OR created_at < {to})
                  AND ({hostId}::uuid IS NULL OR source_host_id = {hostId} OR target_host_id = {hostId})
                  AND ({hostName}::text IS NULL OR source_host_name = {hostName} OR target_host_name = {hostName}))
            SELECT GROUPING(source_host_name, target_host_name) <> 0 AS overall,
                   source_host_name AS source_host, target_host_name AS target_host,
                   count(*) AS count,
                   count(*) FILTER (WHERE state = {completed}) AS completed,
                   count(*) FILTER (WHERE state = {failed}) AS failed,
                   count(*) FILTER (WHERE state = {cancelled}) AS cancelled,
                   count(*) FILTER (WHERE state = {completed} AND sla_met) AS sla_met,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY downtime_ms) FILTER (WHERE state = {completed}) AS downtime_p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY downtime_ms) FILTER (WHERE state = {completed}) AS downtime_p95,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY downtime_ms) FILTER (WHERE state = {completed}) AS downtime_p99,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY total_ms) FILTER (WHERE state = {completed}) AS total_p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY total_ms) FILTER (WHERE state = {completed}) AS total_p95,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY total_ms) FILTER (WHERE state = {completed}) AS total_p99
            FROM finished
            GROUP BY GROUPING SETS ((), (source_host_name, target_host_name))
            """).ToListAsync(ct);

        var overall = rows.SingleOrDefault(r => r.Overall) is { } o ? o.ToFigures() : Row.Empty;
        var pairs = rows.Where(r => !r.Overall).Select(r => r.ToFigures())
            .OrderByDescending(p => p.Count).ThenBy(p => p.SourceHost, StringComparer.Ordinal).ThenBy(p => p.TargetHost, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(new SlaReport(from, to, host, overall, pairs));
    }

    internal sealed record Row(bool Overall, string? SourceHost, string? TargetHost, long Count, long Completed, long Failed,
        long Cancelled, long SlaMet, double? DowntimeP50, double? DowntimeP95, double? DowntimeP99,
        double? TotalP50, double? TotalP95, double? TotalP99)
    {
        public static SlaFigures Empty { get; } = new(null, null, 0, 0, 0, 0, null, null, new(null, null, null), new(null, null, null));

        public SlaFigures ToFigures()
        {
            var decided = Completed + Failed;
            return new SlaFigures(Overall ? null : SourceHost, Overall ? null : TargetHost, Count, Completed, Failed, Cancelled,
                decided == 0 ? null : (double)Completed / decided,
                decided == 0 ? null : (double)SlaMet / decided,
                new Percentiles(DowntimeP50, DowntimeP95, DowntimeP99),
                new Percentiles(TotalP50, TotalP95, TotalP99));
        }
    }
}
