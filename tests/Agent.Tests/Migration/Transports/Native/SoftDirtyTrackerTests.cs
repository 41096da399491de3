using Ferry.Agent.Qmp;
using Ferry.Agent.TestGuest;
using Ferry.Agent.Tests.Support;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;

namespace Ferry.Agent.Tests.Migration.Transports.Native;

/// <summary>The soft-dirty tracker against a real QEMU that maps its RAM file: it stops QEMU for each scan and always continues it.</summary>
/// <remarks>
/// The tracker is Transfer's (src/Transfer/Dirty), but what it must get right is QEMU's: stopped only for the scan,
/// QMP still answering after it. Transfer.Tests has no QEMU (it references Transfer alone), so these tests stay
/// with the native transport that scans QEMU so, and Transfer.Tests/Dirty tests the tracker kinds on the workload.
/// </remarks>
public sealed class SoftDirtyTrackerTests
{
    [Fact]
    public async Task Scanning_a_running_qemu_stops_it_only_for_the_scan_and_the_guest_keeps_counting()
    {
        await using var host = QemuHost.Create();
        await using var qemu = await host.LaunchPageCounterAsync("tracked", "sd-a", 64);
        await QemuHost.WaitUntilCountingAsync(qemu);
        using var memory = GuestMemory.Open(qemu.Layout.RamFile);
        var verdict = DirtyTrackerProbe.Kernel().First(p => p.Kind == DirtyTrackerKind.SoftDirty);

        using var tracker = SoftDirtyTracker.Open([qemu.Pid], memory);
        tracker.Reset();
        var dirty = new DirtyPageSet(memory.PageCount);
        long reported = 0;
        for (var scan = 0; scan < 5; scan++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
            reported += tracker.CollectAndClear(dirty);
        }

        TestContext.Current.SendDiagnosticMessage($"soft-dirty {(verdict.Available ? "available" : "unavailable")}: {reported} pages reported; {verdict.Reason}");
        Assert.Equal([qemu.Pid], tracker.ProcessIds);
        if (verdict.Available)
        {
            // The counter writes every page of its range per sweep.
            Assert.True(dirty.Count >= PageCounterRange.ForGuest(64).Pages / 2, $"only {dirty.Count} pages dirty");
        }
        else
        {
            // Without CONFIG_MEM_SOFT_DIRTY bit 55 never shows; the scan still stops and continues QEMU.
            Assert.Equal(0, reported);
        }

        // A QEMU left stopped would not answer QMP at all.
        Assert.True((await qemu.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(qemu);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task A_process_that_does_not_map_the_ram_file_is_refused()
    {
        await using var host = QemuHost.Create();
        await using var qemu = await host.LaunchIdleAsync("other", "sd-b", 32);
        using var memory = GuestMemory.CreateMemfd("ferry-test-unmapped", 32L * 1024 * 1024);

        var refused = Assert.Throws<IOException>(() => SoftDirtyTracker.Open([qemu.Pid], memory));

        Assert.Contains("no shared mapping", refused.Message, StringComparison.Ordinal);
        Assert.True((await qemu.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
    }
}
