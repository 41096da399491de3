using System.Diagnostics.Metrics;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>
/// The qemu transport's meter. Bucket boundaries follow the SLA's scale: downtime around the 10 ms
/// budget, total time around the 2 s budget, so a histogram answers "how many met it" directly.
/// </summary>
public sealed class QemuMigrationMetrics
{
    public const string MeterName = "Ferry.Agent.QemuMigration";

    private static readonly double[] DowntimeBuckets = [1, 2, 5, 10, 20, 50, 100, 300, 1000, 3000];
    private static readonly double[] TotalTimeBuckets = [100, 250, 500, 1000, 2000, 5000, 10000, 30000, 60000, 120000];

    private readonly Histogram<double> _downtime;
    private readonly Histogram<double> _totalTime;
    private readonly Histogram<double> _cleanupTime;
    private readonly Counter<long> _outcomes;

    public QemuMigrationMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _downtime = meter.CreateHistogram("ferry.migration.downtime", "ms", "Guest paused until it runs on the target, as QEMU measured it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DowntimeBuckets });
        _totalTime = meter.CreateHistogram("ferry.migration.total_time", "ms", "Migration start until the guest runs on the target, as QEMU measured it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TotalTimeBuckets });
        _cleanupTime = meter.CreateHistogram("ferry.migration.cleanup_time", "ms", "Deferred source cleanup after the target runs.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DowntimeBuckets });
        _outcomes = meter.CreateCounter<long>("ferry.migration.outcomes", description: "Migrations by outcome.");
    }

    internal void Record(QemuMigrationResult result)
    {
        var transport = new KeyValuePair<string, object?>("transport", "qemu");
        _outcomes.Add(1, transport, new KeyValuePair<string, object?>("outcome", result.Outcome.ToString()));
        if (result.Outcome != MigrationOutcome.Completed || result.Stats is not { } stats)
        {
            return;
        }

        _downtime.Record(stats.DowntimeMs, transport);
        _totalTime.Record(stats.TotalTimeMs, transport);
        if (result.CleanupTime is { } cleanup)
        {
            _cleanupTime.Record(cleanup.TotalMilliseconds, transport);
        }
    }
}
