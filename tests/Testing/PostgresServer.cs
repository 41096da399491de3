using System.Collections.Concurrent;
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
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _templates = new();

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
        _dataDir = Path.Combine(DataRoot(), $"pg-ferry-test-{Environment.ProcessId}-{port}");
        await Scripts.RunAsync("postgres.sh", null, "start", _dataDir, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _adminConnectionString = $"Host=127.0.0.1;Port={port};Username=ferry;Password=ferry;Database=postgres;Pooling=false";
    }

    /// <summary>
    /// Where the server keeps its data: in memory (/dev/shm) when there is ample room, else the temp directory.
    /// Every test database is a copy of a template, 8 MB of catalogs; on disk, written by PostgreSQL and journaled
    /// by ext4, those copies took a fifth of Api.Tests' time (51-53 s against 36-42 s in /dev/shm, 2026-12-07).
    /// The name is not ferry-*: the end-to-end suite counts /dev/shm/ferry-* as guests' files.
    /// </summary>
    private static string DataRoot()
    {
        const long room = 4L << 30;
        try
        {
            var shm = new DriveInfo("/dev/shm");
            return shm.IsReady && shm.AvailableFreeSpace >= room ? shm.RootDirectory.FullName : Path.GetTempPath();
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return Path.GetTempPath();
        }
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
    public Task<string> CreateDatabaseAsync() => CreateAsync($"ferry_test_{Guid.NewGuid():N}", template: null);

    /// <summary>
    /// Creates a database as a copy of one that <paramref name="prepare"/> wrote once for this server (a schema,
    /// say) and returns its connection string. Applying a schema costs about as much as the copy again, in CPU
    /// the tests share: an assembly that starts an API per test copies it instead of migrating every database.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string templateName, Func<string, Task> prepare)
    {
        var template = _templates.GetOrAdd(templateName, name => new Lazy<Task<string>>(() => PrepareTemplateAsync(name, prepare)));
        return await CreateAsync($"ferry_test_{Guid.NewGuid():N}", await template.Value);
    }

    private async Task<string> PrepareTemplateAsync(string name, Func<string, Task> prepare)
    {
        var database = $"ferry_template_{name}_{Guid.NewGuid():N}";
        var connectionString = await CreateAsync(database, template: null);
        await prepare(connectionString);

        // CREATE DATABASE ... TEMPLATE refuses a template anyone is connected to.
        await using var connection = new NpgsqlConnection(connectionString);
        NpgsqlConnection.ClearPool(connection);
        return database;
    }

    private async Task<string> CreateAsync(string name, string? template)
    {
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(template is null ? $"CREATE DATABASE {name}" : $"CREATE DATABASE {name} TEMPLATE {template}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }
}
