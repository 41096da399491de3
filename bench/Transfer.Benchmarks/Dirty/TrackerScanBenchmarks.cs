using BenchmarkDotNet.Attributes;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Benchmarks.Dirty;

/// <summary>
/// PAGEMAP_SCAN get-and-clear over 1 GiB of registered guest RAM (this process stands in for the
/// guest): a clean scan, and one after 1024 scattered page writes.
/// </summary>
public unsafe class TrackerScanBenchmarks
{
    private GuestMemory _memory = null!;
    private WriteProtectRegistration _registration = null!;
    private IDirtyTracker _tracker = null!;
    private DirtyPageSet _dirty = null!;

    [GlobalSetup]
    public void Setup()
    {
        _memory = GuestMemory.CreateMemfd("bench-tracker", 1L << 30);
        for (long page = 0; page < _memory.PageCount; page++)
        {
            _memory.GetPage(page)[0] = 1; // populated, like a running guest
        }

        _registration = WriteProtectRegistration.Register(_memory.Pointer, _memory.Size);
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

    [IterationSetup(Target = nameof(ScanAfter1024Writes))]
    public void Dirty1024()
    {
        for (long page = 0; page < _memory.PageCount; page += _memory.PageCount / 1024)
        {
            _memory.GetPage(page)[1]++;
        }
    }

    [Benchmark]
    public long ScanClean() => _tracker.CollectAndClear(_dirty);

    [Benchmark]
    public long ScanAfter1024Writes() => _tracker.CollectAndClear(_dirty);
}
