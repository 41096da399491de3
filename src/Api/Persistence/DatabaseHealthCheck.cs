using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ferry.Api.Persistence;

/// <summary>Ready when PostgreSQL answers a query.</summary>
internal sealed class DatabaseHealthCheck(FerryDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await db.Database.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("database does not accept connections");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("database unreachable", e);
        }
    }
}
