using Ferry.Api.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Testing.Api;

/// <summary>
/// Databases that already hold Ferry's schema, for suites that start an API per test. The schema (the API's EF
/// migrations, as the API applies them when it starts) is written once per server into a template that every
/// database is then copied from: migrating each fresh database took more CPU than the rest of an API's start.
/// The API still runs its schema step on start and finds nothing to apply; the suites that test that step on
/// an empty database (Deploy.Tests, StartupSecurityTests) use <see cref="PostgresServer.CreateDatabaseAsync()"/>.
/// </summary>
public static class FerrySchema
{
    /// <summary>A new database with Ferry's schema; its connection string.</summary>
    public static Task<string> CreateFerryDatabaseAsync(this PostgresServer postgres) => postgres.CreateDatabaseAsync("ferry", ApplyAsync);

    private static async Task ApplyAsync(string connectionString)
    {
        var options = new DbContextOptionsBuilder<FerryDbContext>();
        PersistenceExtensions.Configure(options, connectionString);
        await using var db = new FerryDbContext(options.Options);
        await db.Database.MigrateAsync();
    }
}
