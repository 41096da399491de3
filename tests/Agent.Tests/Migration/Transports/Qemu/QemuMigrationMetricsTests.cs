using System.Diagnostics.Metrics;
using Ferry.Agent.Migration;
using Microsoft.Extensions.DependencyInjection;
using Ferry.Agent.Migration.Transports.Qemu;

namespace Ferry.Agent.Tests.Migration.Transports.Qemu;

[Trait("Tier", "fast")]
public sealed class QemuMigrationMetricsTests
{
    [Fact]
    public void A_completed_migration_records_downtime_total_time_and_its_outcome_and_a_failed_one_only_its_outcome()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var metrics = new QemuMigrationMetrics(factory);
        var measured = new List<(string Instrument, double Value)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Meter.Name == QemuMigrationMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => measured.Add((instrument.Name, value)));
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => measured.Add((instrument.Name, value)));
        listener.Start();

        metrics.Record(new QemuMigrationResult(MigrationOutcome.Completed, null, new QemuMigrationStats(812, 7, 3, 1, 1, 1, 1, 3, 0, 1000), false, TimeSpan.FromMilliseconds(4)));
        metrics.Record(new QemuMigrationResult(MigrationOutcome.Failed, "x", null, true, null));

        Assert.Contains(("ferry.migration.downtime", 7d), measured);
        Assert.Contains(("ferry.migration.total_time", 812d), measured);
        Assert.Contains(("ferry.migration.cleanup_time", 4d), measured);
        Assert.Equal(2, measured.Count(m => m.Instrument == "ferry.migration.outcomes"));
        Assert.Single(measured, m => m.Instrument == "ferry.migration.downtime");
    }
}
