using System.Collections.Concurrent;
using System.Diagnostics;

namespace Ferry.ControlPlane.Benchmark;

/// <summary>
/// REST reads at a fixed rate, as dashboards and orchestrators polling their migrations issue them: one request
/// every 1/rate seconds whether or not the previous answered (an open loop, so a slow API shows as latency, not as
/// fewer requests). Three in four read one migration, one in four a page of the list.
/// </summary>
internal sealed class RestReads(HttpClient http, int rate, Func<string?> someMigration)
{
    private readonly ConcurrentBag<double> _latencies = [];
    private long _failed;

    public long Failed => Interlocked.Read(ref _failed);

    public int Count => _latencies.Count;

    public async Task RunAsync(CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var inFlight = new List<Task>();
        for (long k = 0; !stop.IsCancellationRequested; k++)
        {
            var due = TimeSpan.FromSeconds((double)k / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            var path = k % 4 == 3 || someMigration() is not { } id ? "/api/v1/migrations?pageSize=20" : $"/api/v1/migrations/{id}";
            inFlight.Add(ReadAsync(path));
            inFlight.RemoveAll(t => t.IsCompleted);
        }

        await Task.WhenAll(inFlight);
    }

    /// <summary>The <paramref name="percentile"/>th percentile (0–100) of the latencies, in ms.</summary>
    public double Percentile(double percentile)
    {
        var sorted = _latencies.ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    private async Task ReadAsync(string path)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead);
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref _failed);
                return;
            }

            _latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (HttpRequestException)
        {
            Interlocked.Increment(ref _failed);
        }
    }
}
