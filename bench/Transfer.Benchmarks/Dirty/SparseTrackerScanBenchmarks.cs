using BenchmarkDotNet.Attributes;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Migration;

namespace Ferry.Transfer.Benchmarks.Dirty;

/// <summary>
/// The final dirty scan of an idle 8 GiB guest with 244 KiB of data in a few clusters (the side-by-side
/// benchmark's idle image), registered with userfaultfd write-protect like the workload's RAM: a
/// PAGEMAP_SCAN over the whole RAM against one over its allocated ranges (lseek walk included).
/// </summary>
public unsafe class SparseTrackerScanBenchmarks
{
    private GuestMemory _memory = null!;
    private WriteProtectRegistration _registration = null!;
    private IDirtyTracker _tracker = null!;
    private DirtyPageSet _dirty = null!;

    [GlobalSetup]
    public void Setup()
    {
        _memory = GuestMemory.CreateMemfd("bench-sparse-tracker", 8L << 30);
        _registration = WriteProtectRegistration.Register(_memory.Pointer, _memory.Size);
        foreach (long cluster in new long[] { 0, 160, 256, 1024, 49_152, 262_000, 1_048_000, 2_097_000 })
        {
            for (long page = cluster; page < cluster + 8; page++)
            {
                _memory.GetPage(page)[0] = 1;
            }
        }

        _tracker = DirtyTracking.OpenWrittenPageTracker(Environment.ProcessId, _memory);
        _dirty = new DirtyPageSet(_memory.PageCount);
        _tracker.Reset();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _tracker.Dispose();
        _registration.Dispose();
        _memory.Dispose();
    }

    [Benchmark(Baseline = true)]
    public long ScanWholeRam() => _tracker.CollectAndClear(_dirty);

    [Benchmark]
    public long ScanAllocatedRanges() => _tracker.CollectAndClear(_dirty, PassPlan.ScanRanges(_memory));
}
