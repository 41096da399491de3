using Ferry.Transfer.Dirty;
using Ferry.Transfer.Guest;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Tests.Dirty;
using Ferry.Transfer.Tests.Support;

namespace Ferry.Transfer.Tests.Workload;

public sealed class WorkloadGuestTests
{
    [Theory]
    [InlineData("l2fwd")]
    [InlineData("sweep")]
    [InlineData("random")]
    public void A_paused_workload_writes_nothing_until_resumed(string profile)
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("paused", 64L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, profile);
        using var tracker = DirtyTracking.OpenWrittenPageTracker(workload.Pid, memory);
        var dirty = new DirtyPageSet(memory.PageCount);

        workload.Pause();
        tracker.Reset();
        Thread.Sleep(100);
        tracker.CollectAndClear(dirty);
        Assert.Equal(0, dirty.Count);

        workload.Resume();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (dirty.Count == 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
            tracker.CollectAndClear(dirty);
        }

        Assert.True(dirty.Count > 0, "a resumed workload writes again");
    }

    [Theory]
    [InlineData("l2fwd")]
    [InlineData("sweep")]
    [InlineData("random")]
    [InlineData("idle")]
    public void Nothing_is_written_after_the_guest_acknowledged_a_pause_in_its_control_word(string profile)
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("paused-word", 64L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, profile, "--dirty-rate", "0");
        using var tracker = DirtyTracking.OpenWrittenPageTracker(workload.Pid, memory);
        var dirty = new DirtyPageSet(memory.PageCount);
        Thread.Sleep(50);

        workload.Control.Pause(TimeSpan.FromSeconds(30));
        tracker.Reset();
        byte[] atAcknowledgement;
        unsafe
        {
            atAcknowledgement = new ReadOnlySpan<byte>(memory.Pointer, (int)memory.Size).ToArray();
        }

        Thread.Sleep(100);
        tracker.CollectAndClear(dirty);

        Assert.Equal(GuestRunState.Paused, workload.Control.State);
        Assert.StartsWith("status paused", workload.Command("status"), StringComparison.Ordinal);
        Assert.Equal(0, dirty.Count);
        unsafe
        {
            Assert.True(new ReadOnlySpan<byte>(memory.Pointer, (int)memory.Size).SequenceEqual(atAcknowledgement),
                "the RAM is byte for byte what it was when the pause was acknowledged");
        }
    }

    [Fact]
    public void The_stdin_pause_and_resume_commands_move_the_same_control_word()
    {
        using var memory = GuestMemory.CreateMemfd("stdin", 16L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, "sweep", "--no-track");

        Assert.StartsWith("paused", workload.Command("pause"), StringComparison.Ordinal);
        Assert.Equal(GuestRunState.Paused, workload.Control.State);
        Assert.Equal("resumed", workload.Command("resume"));
        Assert.Contains(workload.Control.State, new[] { GuestRunState.Running, GuestRunState.Quiescent, GuestRunState.PauseRequested });
    }

    [Fact]
    public void An_incoming_workload_started_through_its_control_word_continues_where_the_source_stopped()
    {
        using var source = GuestMemory.CreateMemfd("sweep-source", 16L << 20);
        using var target = GuestMemory.CreateMemfd("sweep-target", 16L << 20);
        using var incoming = WorkloadProcess.Start(target.FilePath, "sweep", "--incoming", "--dirty-rate", "0");
        (ulong Value, long NextPage) stopped;
        using (var workload = WorkloadProcess.Start(source.FilePath, "sweep", "--dirty-rate", "0"))
        {
            Thread.Sleep(50);
            workload.Pause();
            stopped = SweepInvariant.State(source);
        }

        Assert.Equal(GuestRunState.Incoming, incoming.Control.State);
        Assert.Empty(target.GetAllocatedRanges()); // waiting on its word, it has not touched its RAM

        // A start announced but never made (a migration that failed after the announcement) keeps
        // the guest watching for a bounded time only; then it forgets it and sleeps again.
        incoming.Control.AnnounceStart();
        var watching = System.Diagnostics.Stopwatch.StartNew();
        while (incoming.Control.StartAnnounced && watching.Elapsed < TimeSpan.FromSeconds(30))
        {
            Thread.Sleep(10);
        }

        Assert.False(incoming.Control.StartAnnounced, "the incoming guest still watches 30 s after an announcement");
        Assert.Equal(GuestRunState.Incoming, incoming.Control.State);
        unsafe
        {
            new ReadOnlySpan<byte>(source.Pointer, (int)source.Size).CopyTo(new Span<byte>(target.Pointer, (int)target.Size));
        }

        incoming.StartIncoming();
        Assert.Contains(incoming.Control.State, new[] { GuestRunState.Running, GuestRunState.Quiescent });
        Thread.Sleep(50);
        incoming.Pause();

        Assert.Null(SweepInvariant.Violation(target));
        var now = SweepInvariant.State(target);
        Assert.True(now.Value > stopped.Value || now.Value == stopped.Value && now.NextPage > stopped.NextPage,
            $"stopped at {stopped}, now {now}");
    }

    [Fact]
    public void Start_through_the_control_word_refuses_RAM_without_state()
    {
        using var memory = GuestMemory.CreateMemfd("incoming-blank", 16L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, "sweep", "--incoming");

        var error = Assert.Throws<InvalidDataException>(workload.StartIncoming);

        Assert.Contains("no state", error.Message, StringComparison.Ordinal);
        Assert.Equal(GuestRunState.StartRefused, workload.Control.State);
        Assert.Throws<InvalidOperationException>(() => workload.Control.Pause(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void L2fwd_keeps_rewriting_a_small_hot_set()
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("l2fwd", 64L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, "l2fwd");
        using var tracker = DirtyTracking.OpenWrittenPageTracker(workload.Pid, memory);
        var dirty = new DirtyPageSet(memory.PageCount);
        tracker.Reset();
        long forwardedBefore = Steps(workload.Command("status"));

        for (int i = 0; i < 20; i++)
        {
            Thread.Sleep(10);
            tracker.CollectAndClear(dirty);
        }

        long forwarded = Steps(workload.Command("status")) - forwardedBefore;
        Assert.True(forwarded > 0, "the forwarder made progress while tracked");
        // The NIC writes into every mbuf posted on the two RX rings (2 × 1024 × 2304 B, about
        // 1150 pages), plus rings and cache: bounded well below the pool (4600 pages) and the RAM.
        Assert.InRange(dirty.Count, 1, 2000);
    }

    [Fact]
    public void Sweep_resumes_on_a_copy_of_its_RAM_where_it_stopped()
    {
        string copyPath = $"/dev/shm/ferry-sweep-{Guid.NewGuid():N}";
        try
        {
            using var memory = GuestMemory.CreateMemfd("sweep", 16L << 20);
            using (var workload = WorkloadProcess.Start(memory.FilePath, "sweep", "--dirty-rate", "0"))
            {
                Thread.Sleep(50);
                workload.Pause();
            }

            Assert.Null(SweepInvariant.Violation(memory));
            var stopped = SweepInvariant.State(memory);
            using var copy = GuestMemory.Create(copyPath, memory.Size);
            unsafe
            {
                new ReadOnlySpan<byte>(memory.Pointer, (int)memory.Size).CopyTo(new Span<byte>(copy.Pointer, (int)copy.Size));
            }

            using (var resumed = WorkloadProcess.Start(copyPath, "sweep", "--resume", "--dirty-rate", "0"))
            {
                Thread.Sleep(50);
                resumed.Pause();
            }

            Assert.Null(SweepInvariant.Violation(copy));
            var now = SweepInvariant.State(copy);
            Assert.True(now.Value > stopped.Value || now.Value == stopped.Value && now.NextPage > stopped.NextPage,
                $"stopped at {stopped}, now {now}");
        }
        finally
        {
            File.Delete(copyPath);
        }
    }

    [Fact]
    public void Resume_refuses_a_RAM_file_without_workload_state()
    {
        using var memory = GuestMemory.CreateMemfd("blank", 16L << 20);

        var error = Assert.Throws<InvalidOperationException>(() => WorkloadProcess.Start(memory.FilePath, "sweep", "--resume"));
        Assert.Contains("no state", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_incoming_workload_waits_for_start_and_refuses_RAM_without_state()
    {
        using var memory = GuestMemory.CreateMemfd("incoming", 16L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, "sweep", "--incoming");

        Assert.StartsWith("error not started", workload.Command("pause"), StringComparison.Ordinal);
        Assert.Empty(memory.GetAllocatedRanges()); // waiting, it has not touched its RAM
        Assert.StartsWith("error", workload.Command("start"), StringComparison.Ordinal);
    }

    private static long Steps(string status) =>
        long.Parse(status.Split(' ').First(w => w.StartsWith("steps=", StringComparison.Ordinal))[6..], System.Globalization.CultureInfo.InvariantCulture);
}
