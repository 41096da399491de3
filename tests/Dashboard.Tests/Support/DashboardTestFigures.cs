using Ferry.Contracts;
using Ferry.Testing.Api;

namespace Ferry.Dashboard.Tests.Support;

/// <summary>How the dashboard's tests end a paced migration: the figures its charts and tables are checked against.</summary>
internal static class DashboardTestFigures
{
    /// <summary>Cleans up and completes with these times (1 GiB at 9400 Mbit/s), ending the stream.</summary>
    public static void Complete(this PacedMigration run, double totalMs, double downtimeMs, double? networkDowntimeMs = null, int passes = 2)
    {
        var stats = new MigrationStats
        {
            Transport = Transport.Qemu, TotalTimeMs = totalMs, DowntimeMs = downtimeMs, SetupTimeMs = 2, BytesTransferred = 1L << 30,
            Passes = passes, CleanupTimeMs = 9, ThroughputMbps = 9400,
        };
        if (networkDowntimeMs is { } network)
        {
            stats.NetworkDowntimeMs = network;
        }

        run.Complete(stats);
    }
}
