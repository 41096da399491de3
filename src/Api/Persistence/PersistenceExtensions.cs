using Ferry.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ferry.Api.Persistence;

internal static partial class PersistenceExtensions
{
    public static IHostApplicationBuilder AddFerryPersistence(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Ferry")
            ?? throw new InvalidOperationException("ConnectionStrings:Ferry is not configured");
        builder.Services.AddOptions<PersistenceOptions>().BindConfiguration(PersistenceOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddDbContextPool<FerryDbContext>(o => Configure(o, connectionString));
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [FerryDefaults.ReadyTag]);
        return builder;
    }

    public static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history"))
            .UseSnakeCaseNamingConvention();

    /// <summary>Waits for the database and applies pending migrations, unless configured off.</summary>
    public static async Task ApplyFerrySchemaAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<PersistenceOptions>>().Value;
        if (!options.ApplyMigrationsOnStart)
        {
            return;
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Ferry.Persistence");
        var deadline = DateTime.UtcNow + options.StartupWait;
        while (true)
        {
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
            try
            {
                // EF probes the history table before creating it and logs the probe's failure as an
                // error on every fresh database; creating it first with EF's own script avoids that.
                var history = db.GetService<IHistoryRepository>();
                await db.Database.ExecuteSqlRawAsync(history.GetCreateIfNotExistsScript(), app.Lifetime.ApplicationStopping);
                await db.Database.MigrateAsync(app.Lifetime.ApplicationStopping);
                LogSchemaReady(logger);
                return;
            }
            catch (NpgsqlException e) when (e.IsTransient && DateTime.UtcNow < deadline)
            {
                LogDatabaseNotReady(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), app.Lifetime.ApplicationStopping);
            }
        }
    }

    [LoggerMessage(EventId = ApiEventIds.SchemaReady, Level = LogLevel.Information, Message = "Database schema is up to date")]
    private static partial void LogSchemaReady(ILogger logger);

    [LoggerMessage(EventId = ApiEventIds.DatabaseNotReady, Level = LogLevel.Warning, Message = "Database not reachable yet, retrying: {Reason}")]
    private static partial void LogDatabaseNotReady(ILogger logger, string reason);
}
