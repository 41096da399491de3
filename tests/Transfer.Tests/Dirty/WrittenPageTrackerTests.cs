using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Tests.Support;

namespace Ferry.Transfer.Tests.Dirty;

public sealed unsafe class WrittenPageTrackerTests
{
    [Fact]
    public void Probe_gives_a_reason_for_every_tracker()
    {
        var report = DirtyTrackerProbe.Kernel();

        Assert.Equal([DirtyTrackerKind.UserfaultfdWriteProtect, DirtyTrackerKind.SoftDirty], report.Select(r => r.Kind));
        Assert.All(report, r => Assert.False(string.IsNullOrWhiteSpace(r.Reason)));
        var softDirty = report[1];
        if (!softDirty.Available)
        {
            Assert.Contains("CONFIG_MEM_SOFT_DIRTY", softDirty.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Reports_exactly_the_pages_written_since_the_last_collection()
    {
        SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("tracked", 4L << 20);
        using var registration = WriteProtectRegistration.Register(memory.Pointer, memory.Size);
        using var tracker = DirtyTracking.OpenWrittenPageTracker(Environment.ProcessId, memory);
        var dirty = new DirtyPageSet(memory.PageCount);

        memory.GetPage(0)[0] = 1;
        memory.GetPage(10)[100] = 1;
        memory.GetPage(11)[4095] = 1;
        memory.GetPage(memory.PageCount - 1)[7] = 1;
        tracker.CollectAndClear(dirty);

        Assert.Equal([new PageRange(0, 1), new PageRange(10, 2), new PageRange(memory.PageCount - 1, 1)], dirty.ToRanges());

        dirty.Clear();
        tracker.CollectAndClear(dirty);
        Assert.Empty(dirty.ToRanges());

        memory.GetPage(10)[0] = 2;
        tracker.CollectAndClear(dirty);
        Assert.Equal([new PageRange(10, 1)], dirty.ToRanges());
    }

    [Fact]
    public void A_peek_reports_the_written_pages_and_leaves_them_writable_and_reported()
    {
        SkipUnlessWriteProtectWorks();
        const int Pages = 64;
        using var memory = GuestMemory.CreateMemfd("peeked", 4L << 20);
        using var registration = WriteProtectRegistration.Register(memory.Pointer, memory.Size);
        using var tracker = DirtyTracking.OpenWrittenPageTracker(Environment.ProcessId, memory);
        var dirty = new DirtyPageSet(memory.PageCount);
        long Rewrite(byte value)
        {
            long before = MinorFaultsOfThisThread();
            for (int page = 0; page < Pages; page++)
            {
                memory.GetPage(100 + page)[0] = value;
            }

            return MinorFaultsOfThisThread() - before;
        }

        Rewrite(1);
        tracker.CollectAndClear(dirty);
        dirty.Clear();
        Rewrite(2);

        long peeked = tracker.Peek(dirty, [new PageRange(0, memory.PageCount)]);
        long faultsAfterPeek = Rewrite(3);
        dirty.Clear();
        tracker.CollectAndClear(dirty);
        long faultsAfterCollect = Rewrite(4);

        Assert.Equal(Pages, peeked);
        Assert.Equal([new PageRange(100, Pages)], dirty.ToRanges());
        // Re-armed pages fault on their next write (the kernel un-protects them); peeked ones do not.
        Assert.True(faultsAfterPeek < Pages / 2, $"{faultsAfterPeek} write faults after a peek");
        Assert.True(faultsAfterCollect >= Pages, $"{faultsAfterCollect} write faults after a collection");
    }

    /// <summary>Field 10 (minflt) of /proc/thread-self/stat; the command name in field 2 may hold spaces, so count after its ')'.</summary>
    private static long MinorFaultsOfThisThread()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void A_collection_within_ranges_reports_their_writes_and_keeps_the_others_for_later()
    {
        SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("ranged", 4L << 20);
        using var registration = WriteProtectRegistration.Register(memory.Pointer, memory.Size);
        using var tracker = DirtyTracking.OpenWrittenPageTracker(Environment.ProcessId, memory);
        var dirty = new DirtyPageSet(memory.PageCount);
        memory.GetPage(3)[0] = 1;
        memory.GetPage(40)[0] = 1;
        memory.GetPage(700)[0] = 1;

        long reported = tracker.CollectAndClear(dirty, [new PageRange(0, 10), new PageRange(600, 200)]);

        Assert.Equal(2, reported);
        Assert.Equal([new PageRange(3, 1), new PageRange(700, 1)], dirty.ToRanges());
        dirty.Clear();
        tracker.CollectAndClear(dirty);
        Assert.Equal([new PageRange(40, 1)], dirty.ToRanges());
    }

    [Fact]
    public void Scan_ranges_cover_every_page_written_in_a_mostly_empty_RAM()
    {
        SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("sparse", 256L << 20);
        using var registration = WriteProtectRegistration.Register(memory.Pointer, memory.Size);
        using var tracker = DirtyTracking.OpenWrittenPageTracker(Environment.ProcessId, memory);
        var dirty = new DirtyPageSet(memory.PageCount);
        long[] written = [0, 1, 700, 5000, 5001, 30_000, memory.PageCount - 1];
        foreach (long page in written)
        {
            memory.GetPage(page)[9] = 1;
        }

        var ranges = Ferry.Transfer.Migration.PassPlan.ScanRanges(memory);
        tracker.CollectAndClear(dirty, ranges);

        Assert.Equal(written.Length, dirty.Count);
        Assert.All(written, page => Assert.True(dirty.Contains(page), $"page {page}"));
        Assert.True(ranges.Sum(r => r.Count) < memory.PageCount / 16, $"scanned {ranges.Sum(r => r.Count)} of {memory.PageCount} pages");
    }

    [Fact]
    public void A_scan_with_more_runs_than_its_output_vector_continues_where_the_kernel_stopped()
    {
        SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("scattered", 32L << 20);
        using var registration = WriteProtectRegistration.Register(memory.Pointer, memory.Size);
        using var tracker = DirtyTracking.OpenWrittenPageTracker(Environment.ProcessId, memory);
        var dirty = new DirtyPageSet(memory.PageCount);
        for (long page = 0; page < memory.PageCount; page += 2)
        {
            memory.GetPage(page)[0] = 1; // 4096 separate runs, four times the vector
        }

        long reported = tracker.CollectAndClear(dirty);

        Assert.Equal(memory.PageCount / 2, reported);
        Assert.Equal(memory.PageCount / 2, dirty.Count);
        Assert.True(dirty.Contains(memory.PageCount - 2));
        Assert.False(dirty.Contains(memory.PageCount - 1));
    }

    [Fact]
    public void Reset_forgets_earlier_writes()
    {
        SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("reset", 1L << 20);
        using var registration = WriteProtectRegistration.Register(memory.Pointer, memory.Size);
        using var tracker = DirtyTracking.OpenWrittenPageTracker(Environment.ProcessId, memory);
        memory.GetPage(4)[0] = 1;

        tracker.Reset();
        var dirty = new DirtyPageSet(memory.PageCount);
        tracker.CollectAndClear(dirty);

        Assert.Equal(0, dirty.Count);
    }

    [Fact]
    public void Tracks_exactly_the_pages_another_process_writes()
    {
        SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("guest", 64L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, "idle");
        Assert.True(DirtyTracking.TryOpen(workload.Pid, memory, out var opened, out var report), string.Join("; ", report));
        using var tracker = opened!;
        tracker.Reset(); // the workload's own start-up writes (its state page) are not under test
        var dirty = new DirtyPageSet(memory.PageCount);

        workload.Write(3, 5, 6, 7, 16000);
        tracker.CollectAndClear(dirty);
        Assert.Equal([new PageRange(3, 1), new PageRange(5, 3), new PageRange(16000, 1)], dirty.ToRanges());

        dirty.Clear();
        tracker.CollectAndClear(dirty);
        Assert.Empty(dirty.ToRanges());

        memory.GetPage(9)[0] = 1; // written through this process's mapping: not the tracked process
        workload.Write(12);
        tracker.CollectAndClear(dirty);
        Assert.Equal([new PageRange(12, 1)], dirty.ToRanges());
    }

    [Fact]
    public void A_process_that_did_not_register_cannot_be_tracked_silently()
    {
        SkipUnlessWriteProtectWorks();
        using var memory = GuestMemory.CreateMemfd("untracked", 16L << 20);
        using var workload = WorkloadProcess.Start(memory.FilePath, "idle", "--no-track");
        using var tracker = DirtyTracking.OpenWrittenPageTracker(workload.Pid, memory);
        workload.Write(1);

        Assert.Throws<IOException>(() => tracker.CollectAndClear(new DirtyPageSet(memory.PageCount)));
    }

    [Fact]
    public void A_process_without_the_RAM_file_mapped_is_not_tracked()
    {
        SkipUnlessWriteProtectWorks();
        using var mapped = GuestMemory.CreateMemfd("mapped", 1L << 20);
        using var other = GuestMemory.CreateMemfd("other", 1L << 20);
        using var workload = WorkloadProcess.Start(mapped.FilePath, "idle");

        bool opened = DirtyTracking.TryOpen(workload.Pid, other, out var tracker, out var report);

        Assert.False(opened);
        Assert.Null(tracker);
        Assert.Contains("no shared mapping", report[0].Reason, StringComparison.Ordinal);
    }

    internal static void SkipUnlessWriteProtectWorks()
    {
        var probe = DirtyTrackerProbe.Kernel()[0];
        if (!probe.Available)
        {
            Assert.Skip(probe.ToString());
        }
    }
}
