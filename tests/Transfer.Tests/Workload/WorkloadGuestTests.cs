using Ferry.Transfer.Dirty;
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
