using Npgsql;
using Xunit;

namespace Ferry.Testing;

/// <summary>
/// A real PostgreSQL server for the whole test run, started with the repository's own
/// <c>scripts/postgres.sh</c> in a temporary directory, or the server named by
/// <c>FERRY_TEST_POSTGRES</c> (a connection string to a superuser). Each test class gets a
/// fresh database from <see cref="CreateDatabaseAsync"/>.
/// </summary>
/// <remarks>A test assembly opts in with <c>[assembly: AssemblyFixture(typeof(PostgresServer))]</c>.</remarks>
public sealed class PostgresServer : Xunit.IAsyncLifetime
{
    private string? _dataDir;
    private string _adminConnectionString = "";

    /// <summary>Host and port of the server, for processes that connect to it themselves.</summary>
    public string AdminConnectionString => _adminConnectionString;

    public async ValueTask InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("FERRY_TEST_POSTGRES") is { Length: > 0 } external)
        {
            _adminConnectionString = external;
            return;
        }

        // One directory per server, not per process: an assembly whose classes each take a server as a class
        // fixture starts several at once, and two in one directory fail (Deploy.Tests' compose tests did).
        var port = FreePorts.Next();
        _dataDir = Path.Combine(Path.GetTempPath(), $"ferry-test-pg-{Environment.ProcessId}-{port}");
        await Scripts.RunAsync("postgres.sh", null, "start", _dataDir, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _adminConnectionString = $"Host=127.0.0.1;Port={port};Username=ferry;Password=ferry;Database=postgres;Pooling=false";
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataDir is not null)
        {
            await Scripts.RunAsync("postgres.sh", null, "stop", _dataDir);
            try
            {
                Directory.Delete(_dataDir, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp directory is harmless.
            }
        }
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"ferry_test_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }
}
