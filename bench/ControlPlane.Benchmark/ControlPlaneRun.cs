using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ferry.Testing;
using Npgsql;

namespace Ferry.ControlPlane.Benchmark;

/// <summary>
/// One run: PostgreSQL, the API process, the fleet registered and heartbeating, guests defined; then the migrations
/// are queued while REST reads run at a fixed rate, until every migration has ended. The line it returns:
/// <c>{"agents","migrations","dispatchPerSecond","apiP50Ms","apiP99Ms","apiMemoryMiB","postgresConnections","apiCpuMsPerMigration","warmupMigrations"}</c>,
/// dispatchPerSecond being migrations ended per second from the first request to the last end, apiMemoryMiB the
/// API's resident memory once the run is over and settled, postgresConnections the most the API held at once,
/// apiCpuMsPerMigration the API's CPU time from the first request to the last end over the migrations (the
/// fleet's heartbeats and the REST reads of that time included). Everything is measured after the warm-up migrations
/// (<c>--warmup</c>, 1000 by default) have ended.
/// </summary>
internal static class ControlPlaneRun
{
    public static async Task<string> RunAsync(ControlPlaneBenchmarkOptions options)
    {
        var postgres = new PostgresServer();
        await postgres.InitializeAsync();
        try
        {
            using var pki = new TestPki("Ferry bench CA");
            var connectionString = await postgres.CreateDatabaseAsync();
            using var agentCertificate = pki.Certificate("spiffe://ferry/host/bench-agents", IPAddress.Loopback);
            var agentPort = FreePort();
            await using var agents = await InstantAgent.StartAsync(agentPort, agentCertificate);
            await using var api = await ControlPlaneApiProcess.StartAsync(connectionString, pki, new Dictionary<string, string>
            {
                // Limits wide enough for a fleet: one migration out of and into each host at a time (the defaults), the
                // cluster-wide cap and the claim batch raised from the 5 and 20 sized for a lab of two hosts.
                ["Ferry__Scheduler__MaxClusterWide"] = "1000",
                ["Ferry__Scheduler__BatchSize"] = "200",
                ["Ferry__Scheduler__PollInterval"] = "00:00:00.200",
                ["Ferry__Security__RequestsPerSecond"] = "100000",
                ["Ferry__Security__AddressRequestsPerSecond"] = "100000",
            });
            Say($"API pid {api.Pid} at {api.RestUrl} (agents over {api.GrpcUrl}), PostgreSQL {new NpgsqlConnectionStringBuilder(connectionString).Database}");
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(api.RestUrl), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Add("X-Api-Key", api.ApiKey);

            var clock = Stopwatch.StartNew();
            await using var fleet = await SimulatedFleet.RegisterAsync(options.Agents, api.GrpcUrl, agentPort, pki, CancellationToken.None);
            Say($"{options.Agents} agents registered in {clock.Elapsed.TotalSeconds:F1} s; heartbeating");

            clock.Restart();
            var guests = options.Migrations + options.Warmup;
            await Parallel.ForEachAsync(Enumerable.Range(0, guests), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (j, ct) =>
            {
                using var response = await http.PostAsJsonAsync("/api/v1/guests",
                    new { name = $"bench-g{j}", memoryMiB = 1024, vcpus = 1, host = SimulatedFleet.HostName(j % options.Agents) }, ct);
                await Expect(response, HttpStatusCode.Created, "defining a guest");
            });
            Say($"{guests} guests defined in {clock.Elapsed.TotalSeconds:F1} s");

            var warmFailed = 0;
            if (options.Warmup > 0)
            {
                // The API's first minute is spent compiling: the JIT took 0.6-0.8 s of CPU a second for the first ~45 s of a
                // run and next to none after (dotnet-counters, 2026-12-07), which is no control plane's steady state.
                // Warmed up on guests of their own, so every measured migration still moves a guest that never moved.
                // The reads run too (their paths compile as well); their latencies are not kept.
                clock.Restart();
                var warmIds = new ConcurrentBag<string>();
                using var stopWarmReads = new CancellationTokenSource();
                var warmReads = Task.Run(() => new RestReads(http, options.RestRate, () => warmIds.FirstOrDefault()).RunAsync(stopWarmReads.Token));
                await Parallel.ForEachAsync(Enumerable.Range(options.Migrations, options.Warmup), new ParallelOptions { MaxDegreeOfParallelism = 16 },
                    async (j, ct) => warmIds.Add(await RequestMigrationAsync(http, j, options.Agents, ct)));
                (var warmed, warmFailed) = await WaitForEndsAsync(connectionString, options.Warmup, options.Timeout);
                await stopWarmReads.CancelAsync();
                await warmReads;
                if (warmed < options.Warmup)
                {
                    throw new TimeoutException($"only {warmed} of {options.Warmup} warm-up migrations ended within {options.Timeout.TotalSeconds:F0} s:\n{api.Log}");
                }

                Say($"warm-up: {warmed} migrations ended ({warmFailed} failed) in {clock.Elapsed.TotalSeconds:F1} s; measuring from now");
            }

            var rssBefore = api.ResidentMiB();

            var ids = new ConcurrentQueue<string>();
            var idList = new List<string>();
            string? SomeMigration()
            {
                while (ids.TryDequeue(out var id))
                {
                    idList.Add(id);
                }

                return idList.Count == 0 ? null : idList[Random.Shared.Next(idList.Count)];
            }

            using var stopReads = new CancellationTokenSource();
            var reads = new RestReads(http, options.RestRate, SomeMigration);
            var readsRun = Task.Run(() => reads.RunAsync(stopReads.Token));
            var connections = new ConnectionSampler(connectionString);
            var sampling = connections.RunAsync(stopReads.Token);

            clock.Restart();
            var cpuBefore = api.CpuSeconds();
            await Parallel.ForEachAsync(Enumerable.Range(0, options.Migrations), new ParallelOptions { MaxDegreeOfParallelism = 16 },
                async (j, ct) => ids.Enqueue(await RequestMigrationAsync(http, j, options.Agents, ct)));
            var queued = clock.Elapsed;
            Say($"{options.Migrations} migrations accepted in {queued.TotalSeconds:F1} s");

            var (endedInAll, failedInAll) = await WaitForEndsAsync(connectionString, options.Warmup + options.Migrations, options.Timeout);
            var (ended, failed) = (endedInAll - options.Warmup, failedInAll - warmFailed);
            var elapsed = clock.Elapsed;
            var cpuMsPerMigration = (api.CpuSeconds() - cpuBefore) * 1000 / options.Migrations;
            await stopReads.CancelAsync();
            await readsRun;
            await sampling;
            if (ended < options.Migrations)
            {
                throw new TimeoutException($"only {ended} of {options.Migrations} migrations ended within {options.Timeout.TotalSeconds:F0} s:\n{api.Log}");
            }

            var rssAtEnd = api.ResidentMiB();
            // Settled: the API idles with its fleet still heartbeating; memory that keeps growing now is a leak.
            await Task.Delay(TimeSpan.FromSeconds(10));
            var rssAfter = api.ResidentMiB();
            Say($"{ended} migrations ended ({failed} failed) in {elapsed.TotalSeconds:F1} s; {reads.Count} REST reads ({reads.Failed} failed); " +
                $"{fleet.HeartbeatsSent} heartbeats ({fleet.HeartbeatsFailed} failed); API RSS {rssBefore:F0} MiB before, {rssAtEnd:F0} at the end, {rssAfter:F0} 10 s later");

            return string.Create(CultureInfo.InvariantCulture,
                $$"""{"agents":{{options.Agents}},"migrations":{{options.Migrations}},"dispatchPerSecond":{{Math.Round(ended / elapsed.TotalSeconds, 1)}},"apiP50Ms":{{Math.Round(reads.Percentile(50), 2)}},"apiP99Ms":{{Math.Round(reads.Percentile(99), 2)}},"apiMemoryMiB":{{Math.Round(rssAfter, 0)}},"postgresConnections":{{connections.Most}},"apiCpuMsPerMigration":{{Math.Round(cpuMsPerMigration, 1)}},"warmupMigrations":{{options.Warmup}}}""");
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }

    /// <summary>Requests the migration of guest <c>bench-g<paramref name="j"/></c> to the next host; returns its id.</summary>
    private static async Task<string> RequestMigrationAsync(HttpClient http, int j, int agents, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/migrations")
        {
            Content = JsonContent.Create(new { guest = $"bench-g{j}", targetHost = SimulatedFleet.HostName((j % agents + 1) % agents) }),
        };
        using var response = await http.SendAsync(request, ct);
        await Expect(response, HttpStatusCode.Accepted, "requesting a migration");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return body.RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<(int Ended, int Failed)> WaitForEndsAsync(string connectionString, int expected, TimeSpan timeout)
    {
        await using var connection = new NpgsqlConnection(Own(connectionString));
        await connection.OpenAsync();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FILTER (WHERE state IN ('Completed','Failed','Cancelled')), count(*) FILTER (WHERE state = 'Failed') FROM migrations", connection);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            var (ended, failed) = ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
            if (ended >= expected || deadline.Elapsed > timeout)
            {
                return (ended, failed);
            }

            await reader.DisposeAsync();
            await Task.Delay(100);
        }
    }

    private static async Task Expect(HttpResponseMessage response, HttpStatusCode status, string what)
    {
        if (response.StatusCode != status)
        {
            throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    private const string BenchApplication = "ferry-bench";

    private static string Own(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = BenchApplication, Pooling = false }.ConnectionString;

    private static void Say(string line) => Console.Error.WriteLine($"bench-control-plane: {line}");

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The most connections the API's database saw at once, sampled twice a second.</summary>
    private sealed class ConnectionSampler(string connectionString)
    {
        public int Most { get; private set; }

        public async Task RunAsync(CancellationToken stop)
        {
            await using var connection = new NpgsqlConnection(Own(connectionString));
            await connection.OpenAsync(CancellationToken.None);
            while (!stop.IsCancellationRequested)
            {
                // The benchmark's own connections are not the API's.
                await using var command = new NpgsqlCommand(
                    $"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name <> '{BenchApplication}'", connection);
                Most = Math.Max(Most, (int)(long)(await command.ExecuteScalarAsync(CancellationToken.None))!);
                try
                {
                    await Task.Delay(500, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }
}
