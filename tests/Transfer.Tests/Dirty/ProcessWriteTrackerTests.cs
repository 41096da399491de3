using System.Diagnostics;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Interop;
using Ferry.Transfer.Memory;
using Ferry.Testing;

namespace Ferry.Transfer.Tests.Dirty;

/// <summary>
/// The tracker of processes that map a RAM file: here the test process is the writer too (it creates
/// its userfaultfd as the preload library does and takes it back with pidfd_getfd), so every write and
/// every change of mapping is made on purpose and its report checked exactly.
/// </summary>
[Trait("Tier", "fast")]
public sealed unsafe class ProcessWriteTrackerTests
{
    private const int Pages = 1024;

    [Fact]
    public void Writes_through_every_mapping_of_the_file_are_reported_by_file_offset()
    {
        using var fixture = Fixture.Create();
        using var alias = fixture.MapAlias(firstPage: 256, pages: 512);
        using var tracker = ProcessWriteTracker.Open([fixture.Userfaultfd], fixture.Memory);
        var dirty = new DirtyPageSet(Pages);
        tracker.Reset();

        fixture.Memory.GetPage(3)[0] = 1;
        alias.Page(10)[100] = 1;
        fixture.Memory.GetPage(Pages - 1)[4095] = 1;
        tracker.CollectAndClear(dirty);

        Assert.Equal([new PageRange(3, 1), new PageRange(266, 1), new PageRange(Pages - 1, 1)], dirty.ToRanges());
        dirty.Clear();
        tracker.CollectAndClear(dirty);
        Assert.Empty(dirty.ToRanges());
    }

    [Fact]
    public void A_copy_the_kernel_makes_into_a_mapping_is_reported()
    {
        using var fixture = Fixture.Create();
        using var alias = fixture.MapAlias(firstPage: 0, pages: 64);
        using var tracker = ProcessWriteTracker.Open([fixture.Userfaultfd], fixture.Memory);
        var dirty = new DirtyPageSet(Pages);
        tracker.Reset();

        byte[] data = [1, 2, 3, 4];
        fixed (byte* source = data)
        {
            var local = new IoVec { Base = source, Length = (nuint)data.Length };
            var remote = new IoVec { Base = alias.Page(40) + 8, Length = (nuint)data.Length };
            Assert.Equal(data.Length, Libc.ProcessVmWritev(Environment.ProcessId, &local, 1, &remote, 1, 0));
        }

        tracker.CollectAndClear(dirty);
        Assert.Equal([new PageRange(40, 1)], dirty.ToRanges());
    }

    [Fact]
    public void A_mapping_replaced_at_the_same_address_counts_as_written_whole_and_is_tracked_again()
    {
        using var fixture = Fixture.Create();
        var alias = fixture.MapAlias(firstPage: 256, pages: 128);
        using var tracker = ProcessWriteTracker.Open([fixture.Userfaultfd], fixture.Memory);
        var dirty = new DirtyPageSet(Pages);
        tracker.Reset();

        // What DPDK may do when a port's memory table arrives again: unmap and map anew, same place.
        var address = alias.Address;
        alias.Dispose();
        using var again = fixture.MapAliasAt(address, firstPage: 256, pages: 128);
        tracker.CollectAndClear(dirty);
        Assert.Equal([new PageRange(256, 128)], dirty.ToRanges());

        dirty.Clear();
        again.Page(5)[0] = 9;
        tracker.CollectAndClear(dirty);
        Assert.Equal([new PageRange(261, 1)], dirty.ToRanges());
    }

    [Fact]
    public void Mappings_that_appear_or_vanish_count_as_written_once()
    {
        using var fixture = Fixture.Create();
        var leaving = fixture.MapAlias(firstPage: 100, pages: 10);
        using var tracker = ProcessWriteTracker.Open([fixture.Userfaultfd], fixture.Memory);
        var dirty = new DirtyPageSet(Pages);
        tracker.Reset();

        leaving.Dispose();
        using var arriving = fixture.MapAlias(firstPage: 600, pages: 20);
        Assert.Equal(30, tracker.Peek(dirty, [new PageRange(0, Pages)]));
        Assert.Equal([new PageRange(100, 10), new PageRange(600, 20)], dirty.ToRanges());

        dirty.Clear();
        tracker.CollectAndClear(dirty);
        Assert.Equal([new PageRange(100, 10), new PageRange(600, 20)], dirty.ToRanges());
        dirty.Clear();
        arriving.Page(1)[0] = 1;
        tracker.CollectAndClear(dirty);
        Assert.Equal([new PageRange(601, 1)], dirty.ToRanges());
    }

    [Fact]
    public void Disposing_the_tracker_unregisters_so_another_can_register_the_same_mappings()
    {
        using var fixture = Fixture.Create();
        ProcessWriteTracker.Open([fixture.Userfaultfd], fixture.Memory).Dispose();

        using var second = Fixture.CreateUserfaultfd();
        using var tracker = ProcessWriteTracker.Open([second], fixture.Memory);
        var dirty = new DirtyPageSet(Pages);
        tracker.Reset();
        fixture.Memory.GetPage(7)[0] = 1;
        tracker.CollectAndClear(dirty);

        Assert.Equal([new PageRange(7, 1)], dirty.ToRanges());
    }

    [Fact]
    public void A_userfaultfd_taken_twice_is_initialised_once_and_works_either_way()
    {
        int fd = Fixture.CreateRawUserfaultfd();
        try
        {
            Assert.True(ProcessUserfaultfd.TryTake(Environment.ProcessId, fd, out var first, out var reason), reason);
            Assert.True(ProcessUserfaultfd.TryTake(Environment.ProcessId, fd, out var second, out reason), reason);
            using (first)
            using (second)
            {
                Assert.False(first!.InitialisedEarlier);
                Assert.True(second!.InitialisedEarlier);
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    [Fact]
    public void A_descriptor_that_is_no_userfaultfd_is_refused_with_the_reason()
    {
        Assert.False(ProcessUserfaultfd.TryTake(Environment.ProcessId, 0, out _, out var reason));
        Assert.Contains("not a userfaultfd", reason, StringComparison.Ordinal);
        Assert.False(ProcessUserfaultfd.TryTake(Environment.ProcessId, 54321, out _, out reason));
        Assert.Contains(ProcessUserfaultfd.PreloadLibraryName, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_preload_library_gives_a_started_program_a_userfaultfd_at_the_asked_descriptor()
    {
        var library = ProcessUserfaultfd.FindPreloadLibrary();
        Assert.True(library is not null, $"{ProcessUserfaultfd.PreloadLibraryName} was not built beside the tests (the Transfer project builds it with gcc)");
        using var sleeper = Process.Start(Programs.StartInfo("sleep", ["30"], new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = library!,
            ["FERRY_UFFD_FD"] = ProcessUserfaultfd.DefaultDescriptor.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }))!;
        try
        {
            ProcessUserfaultfd? taken = null;
            string reason = "not tried";
            for (int i = 0; i < 100 && taken is null; i++)
            {
                // The constructor runs before sleep's main; the process may not have exec'd yet.
                if (!ProcessUserfaultfd.TryTake(sleeper.Id, ProcessUserfaultfd.DefaultDescriptor, out taken, out reason))
                {
                    Thread.Sleep(20);
                }
            }

            using (taken)
            {
                Assert.True(taken is not null, reason);
                Assert.Equal(sleeper.Id, taken!.Pid);
            }
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
    }

    /// <summary>A RAM file and a userfaultfd this process created for itself and took back, as the agent takes QEMU's.</summary>
    private sealed class Fixture : IDisposable
    {
        private Fixture(GuestMemory memory, ProcessUserfaultfd userfaultfd)
        {
            Memory = memory;
            Userfaultfd = userfaultfd;
        }

        public GuestMemory Memory { get; }

        public ProcessUserfaultfd Userfaultfd { get; }

        public static Fixture Create()
        {
            WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
            return new Fixture(GuestMemory.CreateMemfd("process-tracked", (long)Pages * Environment.SystemPageSize), CreateUserfaultfd());
        }

        public static int CreateRawUserfaultfd()
        {
            long fd = Libc.Syscall(Libc.SysUserfaultfd, Libc.OCloexec | Libc.ONonblock | KernelAbi.UffdUserModeOnly);
            Assert.True(fd >= 0, $"userfaultfd: {Libc.Describe(Libc.LastError)}");
            return (int)fd;
        }

        public static ProcessUserfaultfd CreateUserfaultfd()
        {
            int fd = CreateRawUserfaultfd();
            try
            {
                Assert.True(ProcessUserfaultfd.TryTake(Environment.ProcessId, fd, out var taken, out var reason), reason);
                return taken!;
            }
            finally
            {
                // The taken copy keeps the userfaultfd alive, as QEMU's own copy does in production.
                Libc.Close(fd);
            }
        }

        public Alias MapAlias(long firstPage, long pages) => MapAliasAt(0, firstPage, pages);

        public Alias MapAliasAt(nint address, long firstPage, long pages)
        {
            nuint length = (nuint)(pages * Environment.SystemPageSize);
            nint mapped = Libc.Mmap(address, length, Libc.ProtRead | Libc.ProtWrite, Libc.MapShared | (address != 0 ? Libc.MapFixed : 0),
                Memory.FileDescriptor, firstPage * Environment.SystemPageSize);
            Assert.True(mapped != -1, $"mmap: {Libc.Describe(Libc.LastError)}");
            return new Alias(mapped, length);
        }

        public void Dispose()
        {
            Userfaultfd.Dispose();
            Memory.Dispose();
        }
    }

    private sealed class Alias(nint address, nuint length) : IDisposable
    {
        private bool _disposed;

        public nint Address => address;

        public byte* Page(long page) => (byte*)address + (page * Environment.SystemPageSize);

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                Libc.Munmap(address, length);
            }
        }
    }
}
