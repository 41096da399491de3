using System.Net;
using System.Net.Sockets;
using Ferry.Agent.Migration;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.Tests.Support;
using Ferry.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Ferry.Agent.Migration.Transports.Qemu;

namespace Ferry.Agent.Tests.Migration.Transports.Qemu;

/// <summary>Real QEMU to real QEMU over loopback; the memory invariant is checked after every migration.</summary>
public sealed class QemuMigrationTests
{
    private static QemuMigration NewMigration() => TestMigrations.Create();

    private static MigrationUri FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return MigrationUri.Tcp(IPAddress.Loopback, ((IPEndPoint)probe.LocalEndpoint).Port);
    }

    private static void Report(QemuHost host, string what, QemuMigrationResult result) =>
        TestContext.Current.SendDiagnosticMessage($"{what} [{host.Launcher.AcceleratorFor(GuestKind.Firmware).Accelerator}]: {result.Outcome} {result.Reason} {result.Stats} cleanup {result.CleanupTime?.TotalMilliseconds} ms");

    private static async Task<(QemuProcess Target, MigrationUri Uri)> PrepareTargetAsync(QemuHost host, QemuProcess source, MigrationSettings settings)
    {
        var target = source.Spec.BootDisk is null
            ? await host.LaunchIdleAsync(source.Spec.Guest, source.Spec.Instance + "-in", source.Spec.MemoryMiB, incoming: true)
            : await host.LaunchPageCounterAsync(source.Spec.Guest, source.Spec.Instance + "-in", source.Spec.MemoryMiB, incoming: true);
        var uri = FreeLoopbackPort();
        await NewMigration().PrepareIncomingAsync(target.Qmp, uri, settings, tls: null, TestContext.Current.CancellationToken);
        return (target, uri);
    }

    [Fact]
    public async Task A_256_mib_page_counter_guest_migrates_runs_on_the_target_and_its_memory_invariant_holds()
    {
        var user = QemuUsers.Default();
        await using var host = QemuHost.Create();
        await using var source = await host.LaunchPageCounterAsync("counter", "mig-a", 256);
        await QemuHost.WaitUntilCountingAsync(source);
        var settings = new MigrationSettings { DowntimeLimit = TimeSpan.FromMilliseconds(500) };
        var (target, uri) = await PrepareTargetAsync(host, source, settings);
        await using var _ = target;

        // Both QEMUs run as the default unprivileged user, and the guest's boot disk, which QEMU reopens by
        // path at the switch-over, is that user's.
        QemuUsers.AssertRunsAs(source.Pid, user);
        QemuUsers.AssertRunsAs(target.Pid, user);
        Assert.Equal($"{user.Uid} 600", FileModes.OwnerAndMode(source.Layout.BootDisk));
        Assert.Equal($"{user.Uid} 700", FileModes.OwnerAndMode(source.Layout.UserDirectory));
        Assert.Equal("0 700", FileModes.OwnerAndMode(source.Layout.Directory));
        var samples = new List<QemuMigrationProgress>();

        var result = await NewMigration().MigrateAsync(
            new QemuMigrationRequest(source.Qmp, uri, new LocalQemuTarget(target), settings, Progress: new InlineProgress<QemuMigrationProgress>(samples.Add)),
            TestContext.Current.CancellationToken);
        Report(host, "256 MiB page counter", result);

        Assert.Equal(MigrationOutcome.Completed, result.Outcome);
        Assert.NotEmpty(samples);
        var stats = Assert.IsType<QemuMigrationStats>(result.Stats);
        Assert.True(stats.TransferredBytes > 250L * 1024 * 1024, $"only {stats.TransferredBytes} bytes sent");
        Assert.True(stats.NormalPages >= 254 * 256, $"only {stats.NormalPages} normal pages");
        Assert.True(stats.Passes >= 1);
        Assert.NotNull(result.CleanupTime);
        Assert.True((await target.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        await source.Exited.WaitAsync(TestContext.Current.CancellationToken);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(target);
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);
    }

    [Fact]
    public async Task A_target_that_stops_answering_before_switch_over_fails_the_migration_and_the_source_resumes_intact()
    {
        await using var host = QemuHost.Create();
        await using var source = await host.LaunchPageCounterAsync("counter", "mig-gone", 64);
        await QemuHost.WaitUntilCountingAsync(source);
        var settings = new MigrationSettings { DowntimeLimit = TimeSpan.FromMilliseconds(500) };
        var (target, uri) = await PrepareTargetAsync(host, source, settings);
        await using var _ = target;

        // The target QEMU is alive and would take the guest; only its agent is gone, as after a kill -9.
        var agentGone = new AgentGoneTarget(new LocalQemuTarget(target));
        var result = await NewMigration().MigrateAsync(new QemuMigrationRequest(source.Qmp, uri, agentGone, settings), TestContext.Current.CancellationToken);
        Report(host, "target agent gone at switch-over", result);

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.Contains("At switch-over the target did not answer", result.Reason, StringComparison.Ordinal);
        Assert.True(agentGone.Asked > 0);
        Assert.Equal(1, agentGone.TearDowns);
        Assert.True(result.SourceRunning);
        Assert.True((await source.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        Assert.True(target.HasExited, "the target QEMU was not torn down");
        var invariant = await QemuHost.StopAndCheckInvariantAsync(source);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task An_idle_guest_migrates_and_the_source_is_cleaned_up_only_after_the_target_runs()
    {
        await using var host = QemuHost.Create();
        await using var source = await host.LaunchIdleAsync("idle", "mig-i", 256);
        var settings = new MigrationSettings();
        var (target, uri) = await PrepareTargetAsync(host, source, settings);
        await using var _ = target;
        bool? targetRanAtCleanup = null;

        var result = await NewMigration().MigrateAsync(
            new QemuMigrationRequest(source.Qmp, uri, new LocalQemuTarget(target), settings, DeferredSourceCleanup: async ct =>
            {
                targetRanAtCleanup = (await target.Qmp.QueryStatusAsync(ct)).Running;
                await source.Qmp.QuitAsync(ct);
            }),
            TestContext.Current.CancellationToken);
        Report(host, "256 MiB idle", result);

        Assert.Equal(MigrationOutcome.Completed, result.Outcome);
        Assert.True(targetRanAtCleanup);
        Assert.NotNull(result.CleanupTime);
        var stats = Assert.IsType<QemuMigrationStats>(result.Stats);
        Assert.True(stats.ZeroPages > stats.NormalPages, $"{stats.ZeroPages} zero vs {stats.NormalPages} normal pages");
        Assert.True((await target.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        await source.Exited.WaitAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Migrating_to_a_closed_port_fails_and_the_source_keeps_running_with_its_memory_intact()
    {
        await using var host = QemuHost.Create();
        await using var source = await host.LaunchPageCounterAsync("counter", "mig-c", 64);
        await QemuHost.WaitUntilCountingAsync(source);
        var target = new RecordingTarget();

        var result = await NewMigration().MigrateAsync(
            new QemuMigrationRequest(source.Qmp, FreeLoopbackPort(), target, new MigrationSettings()),
            TestContext.Current.CancellationToken);
        Report(host, "closed port", result);

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.True(result.SourceRunning);
        Assert.Equal(1, target.TearDowns);
        Assert.False(source.HasExited);
        Assert.True((await source.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(source);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task Cancelling_mid_migration_keeps_the_source_running_and_removes_the_target()
    {
        await using var host = QemuHost.Create();
        await using var source = await host.LaunchPageCounterAsync("counter", "mig-x", 128);
        await QemuHost.WaitUntilCountingAsync(source);
        var settings = new MigrationSettings { MaxBandwidthBytesPerSecond = 5_000_000 };
        var (target, uri) = await PrepareTargetAsync(host, source, settings);
        await using var _ = target;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var progress = new InlineProgress<QemuMigrationProgress>(p =>
        {
            if (p.TransferredBytes > 1_000_000)
            {
                cancel.Cancel();
            }
        });

        var result = await NewMigration().MigrateAsync(new QemuMigrationRequest(source.Qmp, uri, new LocalQemuTarget(target), settings, Progress: progress), cancel.Token);
        Report(host, "cancel", result);

        Assert.Equal(MigrationOutcome.Cancelled, result.Outcome);
        Assert.True(result.SourceRunning);
        Assert.True(target.HasExited);
        Assert.Equal(QmpMigrationStatus.Cancelled, (await source.Qmp.QueryMigrateAsync(TestContext.Current.CancellationToken)).State);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(source);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task Killing_the_target_qemu_mid_migration_fails_the_migration_and_the_source_keeps_running()
    {
        await using var host = QemuHost.Create();
        await using var source = await host.LaunchPageCounterAsync("counter", "mig-k", 128);
        await QemuHost.WaitUntilCountingAsync(source);
        var settings = new MigrationSettings { MaxBandwidthBytesPerSecond = 5_000_000 };
        var (target, uri) = await PrepareTargetAsync(host, source, settings);
        await using var _ = target;
        var progress = new InlineProgress<QemuMigrationProgress>(p =>
        {
            if (p.TransferredBytes > 1_000_000)
            {
                target.Kill();
            }
        });

        var result = await NewMigration().MigrateAsync(new QemuMigrationRequest(source.Qmp, uri, new LocalQemuTarget(target), settings, Progress: progress), TestContext.Current.CancellationToken);
        Report(host, "target killed", result);

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.True(result.SourceRunning);
        Assert.True(target.HasExited);
        Assert.True((await source.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(source);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task After_a_cancelled_attempt_a_second_migration_succeeds_with_memory_intact()
    {
        await using var host = QemuHost.Create();
        await using var source = await host.LaunchPageCounterAsync("counter", "mig-r", 128);
        await QemuHost.WaitUntilCountingAsync(source);
        var slow = new MigrationSettings { MaxBandwidthBytesPerSecond = 5_000_000 };
        var (first, firstUri) = await PrepareTargetAsync(host, source, slow);
        await using (first)
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            var cancelled = await NewMigration().MigrateAsync(
                new QemuMigrationRequest(source.Qmp, firstUri, new LocalQemuTarget(first), slow, Progress: new InlineProgress<QemuMigrationProgress>(p =>
                {
                    if (p.TransferredBytes > 500_000)
                    {
                        cancel.Cancel();
                    }
                })),
                cancel.Token);
            Assert.Equal(MigrationOutcome.Cancelled, cancelled.Outcome);
        }

        var fast = new MigrationSettings { DowntimeLimit = TimeSpan.FromMilliseconds(500) };
        var (second, secondUri) = await PrepareTargetAsync(host, source, fast);
        await using var _ = second;
        var result = await NewMigration().MigrateAsync(new QemuMigrationRequest(source.Qmp, secondUri, new LocalQemuTarget(second), fast), TestContext.Current.CancellationToken);
        Report(host, "retry after cancel", result);

        Assert.True(result.Outcome == MigrationOutcome.Completed, $"{result.Outcome}: {result.Reason}");
        var invariant = await QemuHost.StopAndCheckInvariantAsync(second);
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);
    }

    [Fact]
    public async Task A_page_counter_guest_migrates_over_two_multifd_channels_with_memory_intact()
    {
        await using var host = QemuHost.Create();
        await using var source = await host.LaunchPageCounterAsync("counter", "mig-m", 128);
        await QemuHost.WaitUntilCountingAsync(source);
        var settings = new MigrationSettings { ParallelStreams = 2, DowntimeLimit = TimeSpan.FromMilliseconds(500) };
        var (target, uri) = await PrepareTargetAsync(host, source, settings);
        await using var _ = target;

        var result = await NewMigration().MigrateAsync(new QemuMigrationRequest(source.Qmp, uri, new LocalQemuTarget(target), settings), TestContext.Current.CancellationToken);
        Report(host, "128 MiB page counter, multifd x2", result);

        Assert.Equal(MigrationOutcome.Completed, result.Outcome);
        Assert.True((await target.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(target);
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);
    }

    [Fact]
    public async Task Preparing_a_guest_that_was_not_started_as_a_migration_target_is_refused_by_qemu()
    {
        await using var host = QemuHost.Create();
        await using var running = await host.LaunchIdleAsync("idle", "not-target");

        var failure = await Assert.ThrowsAsync<QmpException>(() =>
            NewMigration().PrepareIncomingAsync(running.Qmp, FreeLoopbackPort(), new MigrationSettings(), tls: null, TestContext.Current.CancellationToken));

        Assert.Equal(QmpFailure.CommandFailed, failure.Failure);
        Assert.Equal("migrate-incoming", failure.Command);
        Assert.True((await running.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
    }

    [Fact]
    public async Task The_cancel_statistics_are_the_last_ones_seen_while_the_migration_ran()
    {
        await using var host = QemuHost.Create();
        await using var source = await host.LaunchPageCounterAsync("counter", "mig-s", 64);
        await QemuHost.WaitUntilCountingAsync(source);
        var settings = new MigrationSettings { MaxBandwidthBytesPerSecond = 5_000_000 };
        var (target, uri) = await PrepareTargetAsync(host, source, settings);
        await using var _ = target;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var result = await NewMigration().MigrateAsync(
            new QemuMigrationRequest(source.Qmp, uri, new LocalQemuTarget(target), settings, Progress: new InlineProgress<QemuMigrationProgress>(p =>
            {
                if (p.TransferredBytes > 500_000)
                {
                    cancel.Cancel();
                }
            })),
            cancel.Token);

        Assert.Equal(MigrationOutcome.Cancelled, result.Outcome);
        var stats = Assert.IsType<QemuMigrationStats>(result.Stats);
        Assert.True(stats.TransferredBytes > 500_000);
        Assert.True(stats.TransferredBytes < stats.TotalBytes);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(source);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    /// <summary>A target whose agent stopped answering: the one fault a live QEMU cannot produce on its own.</summary>
    private sealed class AgentGoneTarget(IMigrationTarget inner) : IMigrationTarget
    {
        public int Asked { get; private set; }

        public int TearDowns { get; private set; }

        public Task<RunState> QueryStatusAsync(CancellationToken cancellationToken)
        {
            Asked++;
            throw new TargetUnreachableException("The target agent did not report the guest's state: Unavailable (injected)");
        }

        public async Task TearDownAsync(CancellationToken cancellationToken)
        {
            TearDowns++;
            await inner.TearDownAsync(cancellationToken);
        }
    }
}
