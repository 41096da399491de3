namespace Ferry.Domain.Migrations;

/// <summary>
/// One progress report of a running migration, as the source agent measured it.
/// <paramref name="ExpectedDowntimeMs"/> is what a switch-over now would cost at the measured
/// throughput (remaining bytes over throughput, QEMU's own <c>expected-downtime</c> estimate);
/// null while no throughput has been measured.
/// </summary>
/// <param name="MigrationId">The migration the sample belongs to.</param>
/// <param name="State">The migration's state when the sample arrived.</param>
/// <param name="Pass">The copy pass the transport is in (1 = the first full pass).</param>
/// <param name="RemainingBytes">Bytes still to send in this pass.</param>
/// <param name="TransferredBytes">Bytes sent so far.</param>
/// <param name="DirtyPagesPerSecond">The guest's measured dirty rate.</param>
/// <param name="ThroughputMbps">The measured transfer rate, megabits per second.</param>
/// <param name="ExpectedDowntimeMs">The downtime a switch-over now would cost; null without a throughput.</param>
/// <param name="At">When the control plane received the sample.</param>
public sealed record ProgressSample(Guid MigrationId, MigrationState State, long Pass, long RemainingBytes, long TransferredBytes,
    double DirtyPagesPerSecond, double ThroughputMbps, double? ExpectedDowntimeMs, DateTimeOffset At)
{
    /// <summary>A sample whose expected downtime is derived from <paramref name="remainingBytes"/> and <paramref name="throughputMbps"/>.</summary>
    public static ProgressSample Measured(Guid migrationId, MigrationState state, long pass, long remainingBytes, long transferredBytes,
        double dirtyPagesPerSecond, double throughputMbps, DateTimeOffset at)
    {
        // bytes * 8 bits / (Mbit/s * 1e6) s = bytes * 8 / (Mbit/s * 1000) ms.
        double? expected = throughputMbps > 0 && double.IsFinite(throughputMbps) ? remainingBytes * 8.0 / (throughputMbps * 1000.0) : null;
        return new ProgressSample(migrationId, state, pass, remainingBytes, transferredBytes, dirtyPagesPerSecond, throughputMbps, expected, at);
    }
}
