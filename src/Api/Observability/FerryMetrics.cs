using System.Diagnostics.Metrics;
using Ferry.Domain.Migrations;

namespace Ferry.Api.Observability;

/// <summary>The control plane's meter: migrations by state, and how long they took and froze their guests.</summary>
public sealed class FerryMetrics
{
    /// <summary>Meter name to subscribe to.</summary>
    public const string MeterName = "Ferry.Api";

    // Downtime matters at millisecond grain around the 10 ms objective; total time around the 2 s one.
    private static readonly double[] DowntimeBuckets = [0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 30, 50, 100, 250, 1000];
    private static readonly double[] TotalTimeBuckets = [100, 200, 300, 400, 500, 600, 800, 1000, 1250, 1500, 1750, 2000, 2500, 3000, 5000, 10000, 30000];

    private readonly Histogram<double> _downtime;
    private readonly Histogram<double> _networkDowntime;
    private readonly Histogram<double> _totalTime;
    private readonly Counter<long> _finished;
    private volatile IReadOnlyDictionary<MigrationState, int> _active = new Dictionary<MigrationState, int>();

    public FerryMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _downtime = meter.CreateHistogram("ferry.migration.downtime", "ms", "Guest paused to running at the destination, as the hypervisor or engine measured it",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DowntimeBuckets });
        _networkDowntime = meter.CreateHistogram("ferry.migration.network_downtime", "ms", "Longest gap in forwarded traffic during the migration",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DowntimeBuckets });
        _totalTime = meter.CreateHistogram("ferry.migration.total_time", "ms", "Migration start to guest running at the destination",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TotalTimeBuckets });
        _finished = meter.CreateCounter<long>("ferry.migrations.finished", "{migration}", "Migrations that ended, by final state and SLA verdict");
        meter.CreateObservableGauge("ferry.migrations.active", ObserveActiveCounts, "{migration}", "Migrations in flight, by state");
    }

    /// <summary>Records a migration that just ended.</summary>
    public void RecordFinished(Migration migration)
    {
        var state = new KeyValuePair<string, object?>("state", migration.State.ToString());
        if (migration.Result is { } r)
        {
            var transport = new KeyValuePair<string, object?>("transport", r.Transport.ToString().ToLowerInvariant());
            _downtime.Record(r.DowntimeMs, transport);
            _totalTime.Record(r.TotalTimeMs, transport);
            if (r.NetworkDowntimeMs is { } network)
            {
                _networkDowntime.Record(network, transport);
            }
        }

        _finished.Add(1, state, new KeyValuePair<string, object?>("sla_met", migration.SlaMet));
    }

    /// <summary>The latest count of active migrations per state, as the scheduler last read it.</summary>
    public void ObserveActive(IReadOnlyDictionary<MigrationState, int> counts) => _active = counts;

    private IEnumerable<Measurement<int>> ObserveActiveCounts() =>
        MigrationStateMachine.ActiveStates.Select(s =>
            new Measurement<int>(_active.GetValueOrDefault(s), new KeyValuePair<string, object?>("state", s.ToString())));
}
