using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ferry.Api.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

using Ferry.Testing;
using Ferry.Testing.Api;

namespace Ferry.Api.Tests.Support;

/// <summary>Each test gets its own database and its own API instance on it.</summary>
public abstract class ApiTest(PostgresServer postgres) : IAsyncLifetime
{
    private readonly List<FerryApiFactory> _factories = [];

    protected string ConnectionString { get; private set; } = "";

    /// <summary>Whether the API drives migrations with its real agent dispatcher (against fake agents) instead of recording them.</summary>
    protected virtual bool RealDispatcher => false;

    /// <summary>Configuration every API instance of the test starts with.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();

    protected FerryApiFactory Factory { get; private set; } = null!;

    protected HttpClient Client { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public virtual async ValueTask InitializeAsync()
    {
        ConnectionString = await postgres.CreateFerryDatabaseAsync();
        Factory = NewInstance();
        Client = Factory.CreateClient();
    }

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var f in _factories)
        {
            await f.DisposeAsync();
        }

        // Each test has its own database, so its own connection pool, whose idle connections Npgsql keeps for
        // minutes: a run of this assembly filled the server's connections with them ("too many clients already").
        if (ConnectionString.Length > 0)
        {
            await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
            Npgsql.NpgsqlConnection.ClearPool(connection);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Another API replica on the same database.</summary>
    protected FerryApiFactory NewInstance(string? instanceId = null)
    {
        var factory = new FerryApiFactory(ConnectionString, instanceId, Settings, RealDispatcher);
        _factories.Add(factory);
        _ = factory.Server; // start it: applies the schema
        return factory;
    }

    private protected async Task<T> WithDb<T>(Func<FerryDbContext, Task<T>> read)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<FerryDbContext>());
    }

    /// <summary>Row counts of every table, to show a refused request wrote nothing.</summary>
    protected Task<(int Hosts, int Guests, int Migrations, int Keys)> CountRows() =>
        WithDb(async db => (await db.Hosts.CountAsync(Ct), await db.Guests.CountAsync(Ct), await db.Migrations.CountAsync(Ct),
            await db.IdempotencyRecords.CountAsync(Ct)));

    protected async Task<JsonObject> CreateHost(string name, object? capabilities = null)
    {
        var response = await Client.PostAsJsonAsync("/api/v1/hosts", new
        {
            name,
            migrationAddress = "10.0.0.1",
            capabilities = capabilities ?? new
            {
                cpuModel = "qemu64", cpuFlags = new[] { "sse2" }, kvm = true, memoryFreeMiB = 16384,
                hugepages = new[] { new { pageSizeKiB = 2048, total = 2048, free = 2048 } },
            },
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await Json(response);
    }

    protected async Task<JsonObject> DefineGuest(string name, string host, int memoryMiB = 1024)
    {
        var response = await Client.PostAsJsonAsync("/api/v1/guests", new { name, memoryMiB, vcpus = 2, host }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await Json(response);
    }

    protected Task<HttpResponseMessage> PostMigration(object body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/migrations") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return Client.SendAsync(request, Ct);
    }

    protected async Task<JsonObject> GetMigration(string id)
    {
        var response = await Client.GetAsync($"/api/v1/migrations/{id}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await Json(response);
    }

    protected static async Task<JsonObject> Json(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!.AsObject();

    protected static async Task<JsonObject> Problem(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json(response);
        Assert.Equal((int)status, problem["status"]!.GetValue<int>());
        return problem;
    }
}
