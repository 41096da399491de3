using System.Diagnostics.Metrics;

namespace Ferry.Transfer.Migration;

/// <summary>The engine's one Meter, "Ferry.Transfer"; bucket advice puts the SLA limits (10 ms, 2 s) on boundaries.</summary>
internal static class TransferMetrics
{
    private static readonly Meter Meter = new("Ferry.Transfer");

    public static readonly Histogram<double> Downtime = Meter.CreateHistogram<double>(
        "ferry.transfer.downtime", "ms", "Guest paused until running at the destination.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 1000] });

    public static readonly Histogram<double> TotalTime = Meter.CreateHistogram<double>(
        "ferry.transfer.total_time", "ms", "Migration start until the guest runs at the destination.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [100, 250, 500, 1000, 2000, 5000, 10000, 30000] });

    public static readonly Histogram<double> CleanupTime = Meter.CreateHistogram<double>(
        "ferry.transfer.cleanup_time", "ms", "Deferred cleanup after the guest runs at the destination.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 10, 50, 100, 500, 1000] });

    public static readonly Counter<long> BytesSent = Meter.CreateCounter<long>("ferry.transfer.bytes_sent", "By");

    public static readonly Counter<long> Migrations = Meter.CreateCounter<long>("ferry.transfer.migrations", "{migration}");
}
