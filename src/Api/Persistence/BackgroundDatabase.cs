using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Ferry.Api.Persistence;

/// <summary>
/// Contexts for the API's own work — the scheduler's passes, the dispatcher's runs, the host monitor, the agents'
/// heartbeats and reports — on a connection pool of their own, of at most
/// <see cref="PersistenceOptions.BackgroundMaxConnections"/>. Why: with one pool for everything, a scheduler pass that
/// hands 200 migrations to the dispatcher at once took every one of the pool's 100 connections
/// (`make bench-control-plane`: postgresConnections 100, REST p99 278 ms); REST reads then queued behind the fleet's
/// work for a connection. Bounded apart, that work waits for its own connections and REST keeps the default pool.
/// Resolve it as the keyed service <see cref="Key"/>; the scope disposes it.
/// </summary>
internal sealed class BackgroundDatabase
{
    /// <summary>The key of the scoped <see cref="FerryDbContext"/> on the background pool.</summary>
    public const string Key = "background";

    private readonly DbContextOptions<FerryDbContext> _options;

    public BackgroundDatabase(string connectionString, PersistenceOptions options)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = options.BackgroundMaxConnections };
        // A pool is chosen by its connection string: the name sets this one apart, and says whose work a server
        // session is in pg_stat_activity.
        builder.ApplicationName = (builder.ApplicationName is { Length: > 0 } name ? name : "ferry") + " background";
        if (builder.MinPoolSize > builder.MaxPoolSize)
        {
            builder.MinPoolSize = builder.MaxPoolSize;
        }

        var context = new DbContextOptionsBuilder<FerryDbContext>();
        PersistenceExtensions.Configure(context, builder.ConnectionString);
        _options = context.Options;
    }

    /// <summary>A new context on the background pool; its owner disposes it.</summary>
    public FerryDbContext Create() => new(_options);
}
