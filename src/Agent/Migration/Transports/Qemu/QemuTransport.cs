using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.Testing;
using TransportKind = Ferry.Domain.Migrations.TransportKind;

namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>
/// The <c>qemu</c> transport: QEMU's own loop (<see cref="IQemuMigration"/>) moves RAM and devices;
/// this turns what QEMU says into the transport's samples and phases. The pause is QEMU's STOP event
/// or its <c>device</c> state (or <c>pre-switchover</c> when the target is not confirmed first). With cluster
/// TLS, QEMU's stream runs over TLS, checked against the target host the API named; the reason says which.
/// </summary>
internal sealed class QemuTransport(IQemuMigration qemuMigration, IQemuTlsCredentials tlsCredentials, IFaultHold hold, TimeProvider timeProvider) : IMigrationTransport
{
    /// <summary>Bounds the QMP question asked to settle where the guest is after a failure.</summary>
    private static readonly TimeSpan QuestionBudget = TimeSpan.FromSeconds(5);

    public TransportKind Kind => TransportKind.Qemu;

    public async Task<TransportResult> MigrateAsync(TransportRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var migration = request.Migration;
        var observer = request.Observer;
        var sawCompleted = false;
        DateTimeOffset? pausedAt = null;
        TransportProgress? last = null;
        QemuMigrationResult result;
        QemuMigrationTls? tls;
        try
        {
            tls = tlsCredentials.ForSource(migration.TargetHost);
        }
        catch (IOException ex)
        {
            // Nothing started: the guest stays here, and the prepared target goes.
            await TearDownTargetAsync(request.Target);
            return TransportResult.Failed($"QEMU's migration TLS credentials are not usable here: {ex.Message}");
        }

        var security = tls?.Describe() ?? tlsCredentials.PlainReason;
        using (var events = request.Source.Qmp.SubscribeEvents())
        {
            var watcher = WatchSwitchoverAsync(events, migration.Settings.ConfirmTargetBeforeSwitchover, observer, at => pausedAt ??= at);
            var samples = new SampleSink(observer, () => sawCompleted = true, sample => last = sample);
            result = await qemuMigration.MigrateAsync(
                new QemuMigrationRequest(
                    request.Source.Qmp,
                    migration.Destination,
                    request.Target,
                    migration.Settings,
                    DeferredSourceCleanup: async ct =>
                    {
                        observer.CleaningUp();
                        await request.DeferredSourceCleanup(ct);
                    },
                    Progress: samples,
                    SwitchedOver: () => hold.AtAsync("switchingOver", migration.MigrationId),
                    Tls: tls),
                cancellationToken);
            events.Dispose();
            await watcher;
        }

        if (result.Stats is { } stats)
        {
            last = new TransportProgress(stats.Passes, stats.TransferredBytes, 0, stats.TotalBytes, stats.DirtyPagesRate, stats.ThroughputMbps);
        }

        var measurements = result.Stats is null ? null : Measure(result.Stats, result.CleanupTime, migration.Transport, security) with { PausedAt = pausedAt };
        switch (result.Outcome)
        {
            case MigrationOutcome.Completed:
                return new TransportResult(MigrationOutcome.Completed, null, true, last, measurements ?? Measure(null, result.CleanupTime, migration.Transport, security) with { PausedAt = pausedAt });
            case MigrationOutcome.Cancelled:
                return new TransportResult(MigrationOutcome.Cancelled, result.Reason ?? "Cancelled.", false, last, null);
            default:
                // After switch-over the guest lives at the target whatever went wrong later; QEMU knows.
                var onTarget = sawCompleted || await SourceHandedOverAsync(request.Source);
                return TransportResult.Failed(result.Reason ?? "Failed.", onTarget, last, onTarget ? measurements : null);
        }
    }

    private static MigrationMeasurements Measure(QemuMigrationStats? stats, TimeSpan? cleanup, TransportChoice transport, string security) => new()
    {
        Transport = TransportKind.Qemu,
        TransportReason = $"{transport.Reason}; {security}",
        CleanupTimeMs = cleanup?.TotalMilliseconds ?? 0,
        TotalTimeMs = stats?.TotalTimeMs ?? 0,
        DowntimeMs = stats?.DowntimeMs ?? 0,
        SetupTimeMs = stats?.SetupTimeMs ?? 0,
        Pages = stats is null
            ? PageTransfer.None
            : new PageTransfer(stats.TransferredBytes, stats.ZeroPages, stats.NormalPages, (int)Math.Min(int.MaxValue, stats.Passes), stats.DirtyPagesRate, stats.ThroughputMbps),
    };

    /// <summary>
    /// QEMU pauses the source for the final stop-and-copy and says so with a STOP event; a
    /// <c>device</c> MIGRATION status means the same. When the target is confirmed first, QEMU pauses
    /// in <c>pre-switchover</c> and may still resume the source: switch-over starts only with
    /// <c>device</c>, after Ferry let it continue. The watcher ends when the subscription is disposed
    /// or the connection closes.
    /// </summary>
    private static async Task WatchSwitchoverAsync(QmpEventSubscription events, bool confirmFirst, IMigrationObserver observer, Action<DateTimeOffset> stopped)
    {
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync())
            {
                if (e.Name == QmpEvent.Stop)
                {
                    // QEMU's own moment of the pause (pre-switchover or the final stop-and-copy): a completed source is never resumed, so the first is the one.
                    stopped(e.Timestamp);
                }

                var state = e.Name == QmpEvent.Migration && e.Data.TryGetProperty("status"u8, out var status) ? QmpMigrationStatuses.Parse(status.GetString()) : (QmpMigrationStatus?)null;
                var pausing = state is QmpMigrationStatus.Device or QmpMigrationStatus.Completed
                    || (!confirmFirst && (e.Name == QmpEvent.Stop || state == QmpMigrationStatus.PreSwitchover));
                if (pausing)
                {
                    observer.SwitchingOver();
                }
            }
        }
        catch (QmpException)
        {
            // The connection ended; the migration loop reports what that means.
        }
    }

    private async Task TearDownTargetAsync(IMigrationTarget target)
    {
        using var budget = new CancellationTokenSource(QuestionBudget, timeProvider);
        try
        {
            await target.TearDownAsync(budget.Token);
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException or IOException)
        {
            // The target agent tears down what no migration claims; this failure is already the migration's.
        }
    }

    /// <summary>True when QEMU says its migration completed (the guest was handed over), false when not or unknown.</summary>
    private async Task<bool> SourceHandedOverAsync(QemuProcess source)
    {
        if (source.HasExited)
        {
            return false;
        }

        using var budget = new CancellationTokenSource(QuestionBudget, timeProvider);
        try
        {
            return (await source.Qmp.QueryMigrateAsync(budget.Token)).State == QmpMigrationStatus.Completed;
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Publishes QEMU's samples inline, in the order the migration loop produces them.</summary>
    private sealed class SampleSink(IMigrationObserver observer, Action completed, Action<TransportProgress> latest) : IProgress<QemuMigrationProgress>
    {
        public void Report(QemuMigrationProgress value)
        {
            if (value.State == QmpMigrationStatus.Completed)
            {
                // QEMU finished the stop-and-copy: the guest was paused, whether or not STOP was seen yet.
                completed();
                observer.SwitchingOver();
            }

            var sample = new TransportProgress(value.Pass, value.TransferredBytes, value.RemainingBytes, value.TotalBytes, value.DirtyPagesRate, value.ThroughputMbps);
            latest(sample);
            observer.Report(sample);
        }
    }
}
