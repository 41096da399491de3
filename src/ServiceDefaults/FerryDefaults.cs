using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ferry.ServiceDefaults;

/// <summary>Set-up shared by the API and the agents (eShop's ServiceDefaults pattern).</summary>
public static class FerryDefaults
{
    /// <summary>Health checks tagged with this are part of readiness, not liveness.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Adds OpenTelemetry traces and metrics for ASP.NET Core, HttpClient, gRPC clients and the
    /// .NET runtime, plus the service's own sources and meters; a Prometheus scrape endpoint;
    /// OTLP export when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is configured; health checks.
    /// </summary>
    public static IHostApplicationBuilder AddFerryDefaults(this IHostApplicationBuilder builder, string serviceName,
        IEnumerable<string> activitySources, IEnumerable<string> meters)
    {
        var sources = activitySources.ToArray();
        var meterNames = meters.ToArray();
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(t => t
                .AddSource(sources)
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsInfrastructurePath(ctx.Request.Path))
                .AddHttpClientInstrumentation()
                .AddGrpcClientInstrumentation())
            .WithMetrics(m => m
                .AddMeter(meterNames)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: ["live"]);
        return builder;
    }

    /// <summary>Maps <c>/healthz</c> (the process is alive), <c>/readyz</c> (its dependencies answer) and <c>/metrics</c> (Prometheus).</summary>
    public static WebApplication MapFerryDefaults(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("live") })
            .ExcludeFromDescription();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) })
            .ExcludeFromDescription();
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    private static bool IsInfrastructurePath(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");
}
