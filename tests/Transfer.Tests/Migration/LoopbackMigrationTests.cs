using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Migration;
using Ferry.Transfer.Protocol;
using Ferry.Transfer.Tests.Dirty;
using Ferry.Transfer.Tests.Support;

namespace Ferry.Transfer.Tests.Migration;

/// <summary>Whole migrations over loopback TCP with a real workload process and the real tracker.</summary>
public sealed class LoopbackMigrationTests
{
    private static readonly Task Started = Task.CompletedTask;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task An_idle_guest_arrives_byte_exact_with_zero_pages_as_ranges(int streams)
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var run = new LoopbackMigration(64L << 20);
        var random = new Random(streams);
        for (long page = 100; page < 200; page++)
        {
            random.NextBytes(run.Source.GetPage(page));
        }

        for (long page = 300; page < 310; page++)
        {
            run.Source.GetPage(page)[0] = 0; // allocated, yet zero: found by the scan
        }

        run.Source.GetPage(5000)[1] = 5;
        run.Source.GetPage(run.Source.PageCount - 1)[4095] = 6;
        using var workload = WorkloadProcess.Start(run.Source.FilePath, "idle"); // writes its state into page 0
        var guest = new WorkloadGuestControl(workload);
        List<PageRange>? allocatedAtTarget = null;
        bool sameBytes = false;
        var destination = run.StartDestination(streams, (_, _) =>
        {
            allocatedAtTarget = run.Destination.GetAllocatedRanges(); // before anything reads a hole
            sameBytes = LoopbackMigration.SameBytes(run.Destination, run.Source);
            return Started;
        }, cancellationToken: TestContext.Current.CancellationToken);
        var migration = new SourceMigration(run.Source, DirtyTracking.OpenWrittenPageTracker(workload.Pid, run.Source), guest,
            run.Credentials, new MigrationOptions { Streams = streams, FreeSourceRam = false });

        var result = await migration.RunAsync(run.EndPoint, TestContext.Current.CancellationToken);
        var received = await destination;

        Assert.True(result.Succeeded, result.FailureReason);
        Assert.True(received.Succeeded, received.FailureReason);
        Assert.True(sameBytes, "destination RAM equals the paused source byte for byte");
        Assert.Equal(
            [new PageRange(0, 1), new PageRange(100, 100), new PageRange(5000, 1), new PageRange(run.Source.PageCount - 1, 1)],
            allocatedAtTarget);
        Assert.Equal(103, result.PagesSent);
        Assert.Equal(run.Source.PageCount - 103, result.PassReports[0].ZeroPages + result.PassReports[0].SkippedPages);
        Assert.Equal(10, result.PassReports[0].ZeroPages);
        Assert.Equal((1, 0, 1), (guest.Pauses, guest.Resumes, guest.Stops));
        Assert.False(result.SourceRunning);
        Assert.True(result.Downtime > TimeSpan.Zero && result.Downtime <= result.TotalTime);
    }

    [Fact]
    public async Task A_forwarding_guest_migrates_live_and_arrives_byte_exact()
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var run = new LoopbackMigration(64L << 20);
        using var workload = WorkloadProcess.Start(run.Source.FilePath, "l2fwd");
        var guest = new WorkloadGuestControl(workload);
        bool sameBytes = false;
        int announcements = 0, announcedBeforeStart = -1;
        using var target = WorkloadProcess.Start(run.Destination.FilePath, "l2fwd", "--incoming");
        var destination = run.StartDestination(2, (_, _) =>
        {
            sameBytes = LoopbackMigration.SameBytes(run.Destination, run.Source); // the source is paused here
            announcedBeforeStart = Volatile.Read(ref announcements);
            target.StartIncoming();
            return Started;
        }, switchoverSoon: () =>
        {
            Interlocked.Increment(ref announcements);
            target.Control.AnnounceStart();
        }, cancellationToken: TestContext.Current.CancellationToken);
        var options = new MigrationOptions { Streams = 2, DowntimeBudget = TimeSpan.FromMilliseconds(50), FreeSourceRam = false };
        var migration = new SourceMigration(run.Source, DirtyTracking.OpenWrittenPageTracker(workload.Pid, run.Source), guest, run.Credentials, options);

        var result = await migration.RunAsync(run.EndPoint, TestContext.Current.CancellationToken);
        var received = await destination;

        Assert.True(result.Succeeded, result.FailureReason);
        Assert.True(received.Succeeded, received.FailureReason);
        Assert.True(sameBytes, "destination RAM equals the paused source byte for byte");
        Assert.Equal(1, announcedBeforeStart); // the destination heard of the switch-over once, before the start
        Assert.True(result.FinalPassPages > 0, "a forwarding guest leaves dirty pages for the final pass");
        AssertKeepsRunning(target);
    }

    [Fact]
    public async Task Sweep_invariant_holds_after_a_live_migration_with_several_dirty_passes()
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var run = new LoopbackMigration(16L << 20);
        using var workload = WorkloadProcess.Start(run.Source.FilePath, "sweep", "--dirty-rate", "10000");
        (ulong Value, long NextPage) atPause = default;
        string? sourceViolation = "not paused";
        var guest = new WorkloadGuestControl(workload)
        {
            OnPaused = () =>
            {
                atPause = SweepInvariant.State(run.Source);
                sourceViolation = SweepInvariant.Violation(run.Source);
            },
        };
        using var target = WorkloadProcess.Start(run.Destination.FilePath, "sweep", "--incoming", "--dirty-rate", "10000");
        var destination = run.StartDestination(2, (_, _) =>
        {
            target.StartIncoming();
            return Started;
        }, cancellationToken: TestContext.Current.CancellationToken);
        // Throttled below the dirty rate the passes cannot converge; lifting the limit lets them.
        var limiter = new BandwidthLimiter(16L << 20);
        var options = new MigrationOptions
        {
            Streams = 2,
            Bandwidth = limiter,
            DowntimeBudget = TimeSpan.FromMilliseconds(50),
            CompletionTimeout = TimeSpan.FromSeconds(60),
            FreeSourceRam = false,
        };
        var migration = new SourceMigration(run.Source, DirtyTracking.OpenWrittenPageTracker(workload.Pid, run.Source), guest, run.Credentials, options);
        migration.PassCompleted += report =>
        {
            if (report.Pass >= 2)
            {
                limiter.BytesPerSecond = 0;
            }
        };

        var result = await migration.RunAsync(run.EndPoint, TestContext.Current.CancellationToken);
        var received = await destination;

        Assert.True(result.Succeeded, result.FailureReason);
        Assert.True(received.Succeeded, received.FailureReason);
        Assert.True(result.Passes >= 4, $"{result.Passes} passes");
        Assert.Null(sourceViolation);
        Thread.Sleep(50);
        target.Pause();
        Assert.Null(SweepInvariant.Violation(run.Destination));
        var now = SweepInvariant.State(run.Destination);
        Assert.True(now.Value > atPause.Value || now.Value == atPause.Value && now.NextPage >= atPause.NextPage,
            $"target continued from {atPause} to {now}");
    }

    [Fact]
    public async Task Non_convergence_fails_at_the_completion_timeout_and_leaves_the_source_running()
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var run = new LoopbackMigration(16L << 20);
        using var workload = WorkloadProcess.Start(run.Source.FilePath, "sweep", "--dirty-rate", "0");
        var guest = new WorkloadGuestControl(workload);
        bool guestStarted = false;
        var destination = run.StartDestination(1, (_, _) =>
        {
            guestStarted = true;
            return Started;
        }, cancellationToken: TestContext.Current.CancellationToken);
        var options = new MigrationOptions
        {
            Streams = 1,
            Bandwidth = new BandwidthLimiter(32L << 20),
            DowntimeBudget = TimeSpan.FromMilliseconds(1),
            CompletionTimeout = TimeSpan.FromSeconds(2),
        };
        var tracker = new EveryPageDirtyTracker(DirtyTracking.OpenWrittenPageTracker(workload.Pid, run.Source));
        var migration = new SourceMigration(run.Source, tracker, guest, run.Credentials, options);

        var result = await migration.RunAsync(run.EndPoint, TestContext.Current.CancellationToken);
        var received = await destination;

        Assert.False(result.Succeeded);
        Assert.Contains("did not converge", result.FailureReason, StringComparison.Ordinal);
        Assert.True(result.SourceRunning);
        Assert.Equal(0, guest.Pauses);
        Assert.False(received.Succeeded);
        Assert.False(guestStarted);
        AssertKeepsRunning(workload);
        Assert.NotEmpty(run.Source.GetAllocatedRanges()); // the source RAM was not freed
    }

    [Fact]
    public async Task A_killed_destination_fails_cleanly_and_the_source_keeps_running()
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var run = new LoopbackMigration(16L << 20);
        using var workload = WorkloadProcess.Start(run.Source.FilePath, "sweep", "--dirty-rate", "10000");
        var guest = new WorkloadGuestControl(workload);
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var destination = run.StartDestination(2, (_, _) => Started, cancellationToken: kill.Token);
        var options = new MigrationOptions { Streams = 2, DowntimeBudget = TimeSpan.FromTicks(1), Bandwidth = new BandwidthLimiter(32L << 20) };
        var migration = new SourceMigration(run.Source, DirtyTracking.OpenWrittenPageTracker(workload.Pid, run.Source), guest, run.Credentials, options);
        migration.PassCompleted += report =>
        {
            if (report.Pass == 0)
            {
                kill.Cancel(); // the destination's connections close under the next pass
            }
        };

        var result = await migration.RunAsync(run.EndPoint, TestContext.Current.CancellationToken);
        var received = await destination;

        Assert.False(result.Succeeded);
        Assert.True(result.SourceRunning, result.FailureReason);
        Assert.Equal(guest.Pauses, guest.Resumes);
        Assert.False(received.Succeeded);
        AssertKeepsRunning(workload);
    }

    [Fact]
    public async Task A_destination_lost_after_the_pause_puts_the_guest_back_on_the_source()
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var run = new LoopbackMigration(16L << 20);
        using var workload = WorkloadProcess.Start(run.Source.FilePath, "sweep", "--dirty-rate", "1000");
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var guest = new WorkloadGuestControl(workload) { OnPaused = kill.Cancel };
        var destination = run.StartDestination(1, (_, _) => Started, cancellationToken: kill.Token);
        var options = new MigrationOptions { Streams = 1, DowntimeBudget = TimeSpan.FromSeconds(1) };
        var migration = new SourceMigration(run.Source, DirtyTracking.OpenWrittenPageTracker(workload.Pid, run.Source), guest, run.Credentials, options);

        var result = await migration.RunAsync(run.EndPoint, TestContext.Current.CancellationToken);
        await destination;

        Assert.False(result.Succeeded);
        Assert.True(result.SourceRunning, result.FailureReason);
        Assert.Equal((1, 1), (guest.Pauses, guest.Resumes));
        AssertKeepsRunning(workload);
    }

    [Fact]
    public async Task A_cut_link_fails_at_the_progress_timeout_and_the_source_keeps_running()
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var run = new LoopbackMigration(16L << 20);
        using var proxy = new BlackholeProxy(run.EndPoint);
        using var workload = WorkloadProcess.Start(run.Source.FilePath, "sweep", "--dirty-rate", "10000");
        var guest = new WorkloadGuestControl(workload);
        var destination = run.StartDestination(1, (_, _) => Started, progressTimeout: TimeSpan.FromSeconds(1), cancellationToken: TestContext.Current.CancellationToken);
        var options = new MigrationOptions
        {
            Streams = 1,
            DowntimeBudget = TimeSpan.FromTicks(1),
            ProgressTimeout = TimeSpan.FromSeconds(1),
            Bandwidth = new BandwidthLimiter(32L << 20),
        };
        var migration = new SourceMigration(run.Source, DirtyTracking.OpenWrittenPageTracker(workload.Pid, run.Source), guest, run.Credentials, options);
        migration.PassCompleted += report =>
        {
            if (report.Pass == 0)
            {
                proxy.Cut();
            }
        };

        var result = await migration.RunAsync(proxy.EndPoint, TestContext.Current.CancellationToken);
        var received = await destination;

        Assert.False(result.Succeeded);
        Assert.True(result.SourceRunning, result.FailureReason);
        Assert.Equal(guest.Pauses, guest.Resumes); // a starved guest may reach switch-over first; then it must be resumed
        Assert.False(received.Succeeded);
        AssertKeepsRunning(workload);
    }

    [Fact]
    public async Task A_destination_expecting_another_token_refuses_and_receives_nothing()
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var run = new LoopbackMigration(16L << 20);
        run.Source.GetPage(3)[0] = 1;
        using var workload = WorkloadProcess.Start(run.Source.FilePath, "idle");
        var guest = new WorkloadGuestControl(workload);
        var destination = run.StartDestination(1, (_, _) => Started, credentials: MigrationCredentials.CreateRandom(run.Credentials.MigrationId),
            progressTimeout: TimeSpan.FromSeconds(2), cancellationToken: TestContext.Current.CancellationToken);
        var migration = new SourceMigration(run.Source, DirtyTracking.OpenWrittenPageTracker(workload.Pid, run.Source), guest,
            run.Credentials, new MigrationOptions { Streams = 1 });

        var result = await migration.RunAsync(run.EndPoint, TestContext.Current.CancellationToken);
        var received = await destination;

        // The source checks the destination's proof first: a destination with another token gets no page, nor the source's proof.
        Assert.False(result.Succeeded);
        Assert.Contains(nameof(ReceiveError.DestinationNotAuthenticated), result.FailureReason, StringComparison.Ordinal);
        Assert.True(result.SourceRunning);
        Assert.False(received.Succeeded);
        Assert.Empty(run.Destination.GetAllocatedRanges());
    }

    [Fact]
    public async Task An_unreachable_destination_fails_and_the_source_keeps_running()
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("source", 16L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, "idle");
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var endPoint = (IPEndPoint)closed.LocalEndpoint;
        closed.Stop();
        var migration = new SourceMigration(memory, DirtyTracking.OpenWrittenPageTracker(workload.Pid, memory), new WorkloadGuestControl(workload),
            MigrationCredentials.CreateRandom(Guid.NewGuid()), new MigrationOptions { Streams = 1, ProgressTimeout = TimeSpan.FromSeconds(2) });

        var result = await migration.RunAsync(endPoint, TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Contains("cannot connect", result.FailureReason, StringComparison.Ordinal);
        Assert.True(result.SourceRunning);
    }

    [Fact]
    public async Task A_destination_whose_source_opens_too_few_streams_gives_up_without_starting_the_guest()
    {
        using var run = new LoopbackMigration(1L << 20);
        bool guestStarted = false;
        var destination = run.StartDestination(2, (_, _) =>
        {
            guestStarted = true;
            return Started;
        }, progressTimeout: TimeSpan.FromSeconds(1), cancellationToken: TestContext.Current.CancellationToken);
        using var only = new TcpClient();
        await only.ConnectAsync(run.EndPoint, TestContext.Current.CancellationToken);
        using (var writer = new FrameWriter(only.GetStream(), run.Destination.PageSize))
        using (var reader = new FrameReader(only.GetStream(), run.Destination.PageSize))
        {
            Assert.Null(PageStreamHandshake.Offer(writer, reader, run.Credentials, run.Destination.PageSize, run.Destination.PageCount, 0, 2));
        }

        var received = await destination;

        Assert.False(received.Succeeded);
        Assert.Contains("did not connect", received.FailureReason, StringComparison.Ordinal);
        Assert.False(guestStarted);
    }

    private static void AssertKeepsRunning(WorkloadProcess workload)
    {
        string first = workload.Command("status");
        Assert.StartsWith("status running", first, StringComparison.Ordinal);
        string second = first;
        for (int i = 0; i < 500 && Steps(second) <= Steps(first); i++)
        {
            Thread.Sleep(10);
            second = workload.Command("status");
        }

        Assert.True(Steps(second) > Steps(first), $"the source guest makes progress: '{first}' then '{second}'");
    }

    private static long Steps(string status) =>
        long.Parse(status.Split(' ').First(w => w.StartsWith("steps=", StringComparison.Ordinal))[6..], CultureInfo.InvariantCulture);
}
