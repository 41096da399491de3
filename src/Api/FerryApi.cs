using Ferry.Api.Agents;
using Ferry.Api.Dashboard;
using Ferry.Api.Events;
using Ferry.Api.Guests;
using Ferry.Api.Hosts;
using Ferry.Api.Http;
using Ferry.Api.Migrations;
using Ferry.Api.Notifications;
using Ferry.Api.Observability;
using Ferry.Api.Persistence;
using Ferry.Api.Reports;
using Ferry.Api.Scheduling;
using Ferry.Api.Testing;
using Ferry.Api.Security;
using Ferry.Api.Versions;
using Ferry.ServiceDefaults;

namespace Ferry.Api;

internal static class FerryApi
{
    public const string ServiceName = "ferry-api";

    private const string BearerScheme = "Bearer";

    public static WebApplicationBuilder AddFerryApi(this WebApplicationBuilder builder)
    {
        builder.AddFerryDefaults(ServiceName, activitySources: [ServiceName, "Npgsql"], meters: [FerryMetrics.MeterName]);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = RequestBodyLimit.MaxBytes);
        builder.Services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddProblemDetails();
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new() { Title = "Ferry", Version = "v1", Description = "Live migration of NFV guests: hosts, guests, migrations and their SLA." });
            o.SupportNonNullableReferenceTypes();
            o.ParameterFilter<QueryValueSchemas>();
            // The Authorize button of Swagger UI: a key (or token) entered there goes with every "Try it out".
            o.AddSecurityDefinition(ApiKeyAuthenticationHandler.SchemeName, new Microsoft.OpenApi.OpenApiSecurityScheme
            {
                Type = Microsoft.OpenApi.SecuritySchemeType.ApiKey,
                In = Microsoft.OpenApi.ParameterLocation.Header,
                Name = "X-Api-Key",
                Description = "API key; scopes read < migrate < admin. `make run` writes an admin key to .ferry/api-key.",
            });
            o.AddSecurityDefinition(BearerScheme, new Microsoft.OpenApi.OpenApiSecurityScheme
            {
                Type = Microsoft.OpenApi.SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "OAuth2 client-credentials token with Ferry's scopes in its scope claim (where Ferry:Security:Jwt is configured).",
            });
            o.AddSecurityRequirement(doc => new Microsoft.OpenApi.OpenApiSecurityRequirement
            {
                [new Microsoft.OpenApi.OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, doc)] = [],
            });
            o.AddSecurityRequirement(doc => new Microsoft.OpenApi.OpenApiSecurityRequirement
            {
                [new Microsoft.OpenApi.OpenApiSecuritySchemeReference(BearerScheme, doc)] = [],
            });
            var xml = Path.Combine(AppContext.BaseDirectory, "Ferry.Api.xml");
            if (File.Exists(xml))
            {
                o.IncludeXmlComments(xml);
            }
        });

        builder.AddFerrySecurity();
        builder.AddControlPlaneTls();
        builder.AddFerryPersistence();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<FerryMetrics>();
        builder.Services.AddOptions<SchedulerOptions>().BindConfiguration(SchedulerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<IdempotencyOptions>().BindConfiguration(IdempotencyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<AgentClientOptions>().BindConfiguration(AgentClientOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<AgentClients>();
        builder.Services.AddOptions<EventOptions>().BindConfiguration(EventOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<EventSignal>();
        builder.Services.AddSingleton<EventSequencer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EventSequencer>());
        builder.Services.AddHostedService<EventNotifications>();
        builder.AddFerryNotifications();
        builder.Services.AddSingleton<MigrationReports>();
        builder.Services.AddSingleton<HeartbeatWriter>();
        builder.Services.AddSingleton<IMigrationDispatcher, AgentDispatcher>();
        builder.Services.AddHostedService<HostMonitor>();
        builder.Services.AddGrpc();
        builder.Services.AddOptions<QueueHoldOptions>().BindConfiguration(QueueHoldOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<QueueHold>();
        builder.Services.AddSingleton<MigrationScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MigrationScheduler>());
        return builder;
    }

    public static WebApplication UseFerryApi(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = Problems.HandleException,
            // A client's malformed request is answered, not logged as a server error.
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException,
        });
        app.UseStatusCodePages();
        app.UseMiddleware<RequestBodyLimit>();
        app.UseApiVersionHeader();
        app.UseFerrySecurity();
        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.DocumentTitle = "Ferry API";
            o.EnablePersistAuthorization();
        });
        app.MapFerryDefaults();
        app.MapVersionsApi();
        app.MapHostsApiV1();
        app.MapGuestsApiV1();
        app.MapMigrationsApiV1();
        app.MapEventsApiV1();
        app.MapReportsApiV1();
        app.MapSubscriptionsApiV1();
        app.MapGrpcService<ControlPlaneService>();
        app.MapDashboard();
        app.MapGet("/", () => Results.Redirect("/swagger")).ExcludeFromDescription();
        return app;
    }
}
