using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ferry.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Ferry.ControlPlane.Benchmark;

/// <summary>
/// <c>make bench-notifications</c>: the API process on PostgreSQL with a simulated fleet (as the control-plane run),
/// <c>--subscribers</c> subscriptions of which one is dead (its callback answered the subscription's test, then
/// stopped listening), <c>--warmup</c> migrations (200) delivered first and counted nowhere, then <c>--migrations</c>
/// migrations requested all at once or <c>--migration-rate</c> a second. Every live subscriber is a path on one
/// local Kestrel receiver, which notes when each notification arrived. The line it returns:
/// <c>{"subscribers","notifications","deliveredPerSecond","p99DelayMs","migrationsPerSecond","warmupMigrations"}</c>:
/// the offered load (migrations requested per second) and the warm-up beside them. Notifications delivered to the live
/// subscribers (each id counted once, every one of them: the run waits for all), their rate from the first
/// migration request to the last arrival, and the 99th percentile of the delay from the state change to its
/// arrival. The dead subscriber's notifications are never delivered, so they are in no figure (stderr says so, with
/// its pending count). The delay starts at the notification's <c>timeStamp</c>, the moment the API changed the
/// state, which is before that change's transaction committed: it is the delay from the commit plus the rest of
/// that transaction, never less.
/// </summary>
internal static class NotificationRun
{
    public static async Task<string> RunAsync(ControlPlaneBenchmarkOptions options, int subscribers)
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
                ["Ferry__Scheduler__MaxClusterWide"] = "1000",
                ["Ferry__Scheduler__BatchSize"] = "200",
                ["Ferry__Scheduler__PollInterval"] = "00:00:00.200",
                ["Ferry__Security__RequestsPerSecond"] = "100000",
                ["Ferry__Security__AddressRequestsPerSecond"] = "100000",
            });
            Say($"API pid {api.Pid} at {api.RestUrl}");
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(api.RestUrl), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Add("X-Api-Key", api.ApiKey);

            await using var receiver = await Receiver.StartAsync();
            await using (var doomed = await Receiver.StartAsync())
            {
                await Subscribe(http, doomed.Url("/dead"));
            }

            for (var i = 1; i < subscribers; i++)
            {
                await Subscribe(http, receiver.Url($"/s/{i}"));
            }

            Say($"{subscribers} subscriptions, one of them dead");
            await using var fleet = await SimulatedFleet.RegisterAsync(options.Agents, api.GrpcUrl, agentPort, pki, CancellationToken.None);
            await Parallel.ForEachAsync(Enumerable.Range(0, options.Warmup + options.Migrations), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (j, ct) =>
            {
                using var response = await http.PostAsJsonAsync("/api/v1/guests",
                    new { name = $"bench-g{j}", memoryMiB = 1024, vcpus = 1, host = SimulatedFleet.HostName(j % options.Agents), vnfInstanceId = $"vnf-{j % 50}" }, ct);
                await Expect(response, HttpStatusCode.Created, "defining a guest");
            });
            Say($"{options.Agents} agents, {options.Warmup + options.Migrations} guests");

            // The API's first minute is the JIT's (docs/benchmarks.md): warm-up migrations, all at once, run to their
            // last notification before the measured ones start, and count in no figure.
            if (options.Warmup > 0)
            {
                await Migrate(http, options, 0, options.Warmup, rate: 0);
                await Arrived(receiver, 3L * options.Warmup * (subscribers - 1), Stopwatch.StartNew(), options, api);
                Say($"{options.Warmup} warm-up migrations delivered; measuring from now");
                receiver.Reset();
            }

            var clock = Stopwatch.StartNew();
            var started = DateTimeOffset.UtcNow;
            await Migrate(http, options, options.Warmup, options.Migrations, options.MigrationRate);
            var offered = options.Migrations / clock.Elapsed.TotalSeconds;
            Say($"{options.Migrations} migrations accepted in {clock.Elapsed.TotalSeconds:F1} s " +
                (options.MigrationRate > 0 ? $"(paced at {options.MigrationRate}/s)" : "(all at once)"));

            // START (STARTING), START (PROCESSING) and RESULT per migration, to every live subscriber.
            var expected = 3L * options.Migrations * (subscribers - 1);
            await Arrived(receiver, expected, clock, options, api);
            var delivered = receiver.Count;

            var elapsed = (receiver.LastArrival - started).TotalSeconds;
            using var dead = JsonDocument.Parse(await http.GetStringAsync("/api/v1/subscriptions?pageSize=1"));
            var health = dead.RootElement.GetProperty("items")[0].GetProperty("delivery");
            var perSubscriber = receiver.PerPath();
            Say($"{delivered} notifications to {perSubscriber.Count} live subscribers ({perSubscriber.Values.Min()}..{perSubscriber.Values.Max()} each, " +
                $"{expected / (subscribers - 1)} expected) in {elapsed:F1} s; {receiver.Duplicates} duplicates, {receiver.OutOfOrder} out of order within a migration; " +
                $"delay from the state change's timeStamp: p50 {receiver.Percentile(50):F1} ms, p99 {receiver.Percentile(99):F1} ms, max {receiver.Percentile(100):F1} ms");
            Say($"late (over 1 s): {receiver.Late(TimeSpan.FromSeconds(1))}");
            foreach (var line in api.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(30))
            {
                Say($"API: {line.TrimEnd()}");
            }

            Say($"the dead subscriber, excluded from every figure (its notifications never arrive): {health}");
            return string.Create(CultureInfo.InvariantCulture,
                $$"""{"subscribers":{{subscribers}},"notifications":{{delivered}},"deliveredPerSecond":{{Math.Round(delivered / elapsed, 1)}},"p99DelayMs":{{Math.Round(receiver.Percentile(99), 1)}},"migrationsPerSecond":{{Math.Round(offered, 1)}},"warmupMigrations":{{options.Warmup}}}""");
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }

    /// <summary>
    /// Requests migrations <paramref name="first"/>.. of <paramref name="count"/> guests, each to the next host: all at
    /// once (16 requests in flight), or <paramref name="rate"/> a second, each at its own moment from the start.
    /// </summary>
    private static async Task Migrate(HttpClient http, ControlPlaneBenchmarkOptions options, int first, int count, int rate)
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(first, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (j, ct) =>
        {
            if (rate > 0 && TimeSpan.FromSeconds((double)(j - first) / rate) - clock.Elapsed is { Ticks: > 0 } wait)
            {
                await Task.Delay(wait, ct);
            }

            using var response = await http.PostAsJsonAsync("/api/v1/migrations",
                new { guest = $"bench-g{j}", targetHost = SimulatedFleet.HostName((j % options.Agents + 1) % options.Agents) }, ct);
            await Expect(response, HttpStatusCode.Accepted, "requesting a migration");
        });
    }

    /// <summary>Waits until the receiver holds <paramref name="expected"/> notifications, or fails at the run's timeout.</summary>
    private static async Task Arrived(Receiver receiver, long expected, Stopwatch clock, ControlPlaneBenchmarkOptions options, ControlPlaneApiProcess api)
    {
        while (receiver.Count < expected && clock.Elapsed < options.Timeout)
        {
            await Task.Delay(200);
        }

        if (receiver.Count < expected)
        {
            throw new TimeoutException($"only {receiver.Count} of {expected} notifications arrived within {options.Timeout.TotalSeconds:F0} s:\n{api.Log}");
        }
    }

    private static async Task Subscribe(HttpClient http, string callback)
    {
        using var response = await http.PostAsJsonAsync("/api/v1/subscriptions", new { callbackUri = callback, verbosity = "SHORT" });
        await Expect(response, HttpStatusCode.Created, "subscribing");
    }

    private static async Task Expect(HttpResponseMessage response, HttpStatusCode status, string what)
    {
        if (response.StatusCode != status)
        {
            throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static void Say(string line) => Console.Error.WriteLine($"bench-notifications: {line}");

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A local subscriber for every path: answers 204, notes each notification's delay once per id.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<(string Path, string Id), double> _delays = new();
        private readonly ConcurrentDictionary<(string Path, string Id), DateTimeOffset> _changedAt = new();
        private readonly ConcurrentDictionary<(string Path, string Migration), int> _stage = new();
        private long _outOfOrder;
        private WebApplication _app = null!;
        private long _duplicates;
        private long _lastArrivalTicks;

        public long Count => _delays.Count;

        public long Duplicates => Interlocked.Read(ref _duplicates);

        /// <summary>Notifications that arrived after a later one of the same migration at the same subscriber (START/STARTING, START/PROCESSING, RESULT).</summary>
        public long OutOfOrder => Interlocked.Read(ref _outOfOrder);

        public DateTimeOffset LastArrival => new(Interlocked.Read(ref _lastArrivalTicks), TimeSpan.Zero);

        public string Url(string path) => _app.Urls.Single() + path;

        public static async Task<Receiver> StartAsync()
        {
            var receiver = new Receiver();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Configuration.Sources.Clear();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1));
            receiver._app = builder.Build();
            receiver._app.Run(receiver.HandleAsync);
            await receiver._app.StartAsync();
            return receiver;
        }

        private async Task HandleAsync(HttpContext http)
        {
            if (http.Request.Method == "POST")
            {
                using var body = await JsonDocument.ParseAsync(http.Request.Body);
                var now = DateTimeOffset.UtcNow;
                var at = body.RootElement.GetProperty("timeStamp").GetDateTimeOffset();
                _changedAt.TryAdd((http.Request.Path, body.RootElement.GetProperty("id").GetString()!), at);
                if (!_delays.TryAdd((http.Request.Path, body.RootElement.GetProperty("id").GetString()!), (now - at).TotalMilliseconds))
                {
                    Interlocked.Increment(ref _duplicates);
                }
                else
                {
                    var stage = body.RootElement.GetProperty("notificationStatus").GetString() == "RESULT" ? 2
                        : body.RootElement.GetProperty("operationState").GetString() == "PROCESSING" ? 1 : 0;
                    var key = (http.Request.Path.Value!, body.RootElement.GetProperty("migrationId").GetString()!);
                    if (_stage.AddOrUpdate(key, stage, (_, seen) => Math.Max(seen, stage)) != stage)
                    {
                        Interlocked.Increment(ref _outOfOrder);
                    }
                }

                Interlocked.Exchange(ref _lastArrivalTicks, now.UtcTicks);
            }

            http.Response.StatusCode = StatusCodes.Status204NoContent;
        }

        /// <summary>How many notifications arrived later than <paramref name="than"/>, and at which subscribers the most.</summary>
        public string Late(TimeSpan than)
        {
            var late = _delays.Where(d => d.Value > than.TotalMilliseconds).ToList();
            var worst = late.GroupBy(d => d.Key.Path).OrderByDescending(g => g.Count()).Take(5)
                .Select(g => $"{g.Key} {g.Count()} (max {g.Max(d => d.Value) / 1000:F1} s)");
            var changes = late.Select(d => _changedAt[d.Key]).ToList();
            var window = changes.Count == 0 ? "" : $", state changes {changes.Min():HH:mm:ss.f}..{changes.Max():HH:mm:ss.f}";
            return $"{late.Count} of {_delays.Count}{window}; most at {string.Join(", ", worst)}";
        }

        /// <summary>Forgets what arrived so far (the warm-up's notifications).</summary>
        public void Reset()
        {
            _delays.Clear();
            _changedAt.Clear();
            _stage.Clear();
            Interlocked.Exchange(ref _duplicates, 0);
            Interlocked.Exchange(ref _outOfOrder, 0);
        }

        public Dictionary<string, int> PerPath() => _delays.Keys.GroupBy(k => k.Path).ToDictionary(g => g.Key, g => g.Count());

        public double Percentile(double p)
        {
            var sorted = _delays.Values.Order().ToArray();
            return sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }
}
