using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Tests.Memory;

[Trait("Tier", "fast")]
public sealed class GuestMemoryTests
{
    private const int Page = 4096;

    [Fact]
    public void Fresh_memfd_has_no_allocated_pages()
    {
        using var memory = GuestMemory.CreateMemfd("fresh", 64L << 20);

        Assert.Equal(16384, memory.PageCount);
        Assert.Empty(memory.GetAllocatedRanges());
    }

    [Fact]
    public void Written_pages_are_exactly_the_allocated_ranges()
    {
        SkipUnlessShmemHugePagesAreOff();
        using var memory = GuestMemory.CreateMemfd("written", 16L << 20);
        memory.GetPage(5)[17] = 1;
        for (long page = 100; page < 103; page++)
        {
            memory.GetPage(page)[0] = 2;
        }

        memory.GetPage(memory.PageCount - 1)[Page - 1] = 3;

        Assert.Equal(
            [new PageRange(5, 1), new PageRange(100, 3), new PageRange(memory.PageCount - 1, 1)],
            memory.GetAllocatedRanges());
    }

    [Fact]
    public void An_8_GiB_file_maps_and_addresses_its_last_page()
    {
        SkipUnlessShmemHugePagesAreOff();
        using var memory = GuestMemory.CreateMemfd("large", 8L << 30);
        long last = memory.PageCount - 1;
        memory.GetPage(last)[Page - 1] = 0xAB;

        Assert.Equal(2L * 1024 * 1024, memory.PageCount);
        Assert.Equal([new PageRange(last, 1)], memory.GetAllocatedRanges());
        Assert.Equal(0xAB, memory.GetPage(last)[Page - 1]);
    }

    [Fact]
    public void Page_index_past_the_end_is_refused()
    {
        using var memory = GuestMemory.CreateMemfd("bounds", 1L << 20);

        Assert.Throws<ArgumentOutOfRangeException>(() => memory.GetPage(memory.PageCount));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.GetPage(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.ZeroPages(new PageRange(memory.PageCount - 1, 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.ZeroPages(new PageRange(1, long.MaxValue)));
    }

    [Fact]
    public void Zeroing_pages_clears_them_and_frees_their_memory()
    {
        SkipUnlessShmemHugePagesAreOff();
        using var memory = GuestMemory.CreateMemfd("zeroing", 1L << 20);
        for (long page = 0; page < 8; page++)
        {
            memory.GetPage(page).Fill(0x5A);
        }

        memory.ZeroPages(new PageRange(2, 3));

        // Checked before reading: a read fault on a shmem hole allocates the page again.
        Assert.Equal([new PageRange(0, 2), new PageRange(5, 3)], memory.GetAllocatedRanges());
        Assert.True(memory.GetPage(3).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(0x5A, memory.GetPage(5)[0]);
    }

    [Fact]
    public void A_tmpfs_file_is_shared_between_two_mappings()
    {
        string path = $"/dev/shm/ferry-test-{Guid.NewGuid():N}";
        try
        {
            using var writer = GuestMemory.Create(path, 1L << 20);
            writer.GetPage(7)[9] = 42;
            using var reader = GuestMemory.Open(path);

            Assert.Equal(writer.Size, reader.Size);
            Assert.Equal(42, reader.GetPage(7)[9]);
            reader.GetPage(8)[0] = 43;
            Assert.Equal(43, writer.GetPage(8)[0]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_memfd_can_be_reopened_through_its_proc_path()
    {
        using var memory = GuestMemory.CreateMemfd("reopen", 1L << 20);
        memory.GetPage(1)[1] = 9;

        using var other = GuestMemory.Open(memory.FilePath);

        Assert.Equal(9, other.GetPage(1)[1]);
    }

    [Fact]
    public void A_hugetlbfs_file_maps_with_2_MiB_pages()
    {
        const int HugePage = 2 * 1024 * 1024;
        string mounts = File.ReadAllText("/proc/mounts");
        string? mount = mounts.Split('\n').Select(l => l.Split(' ')).FirstOrDefault(f => f.Length > 2 && f[2] == "hugetlbfs")?[1];
        int free = File.ReadAllLines("/proc/meminfo").Where(l => l.StartsWith("HugePages_Free:", StringComparison.Ordinal))
            .Select(l => int.Parse(l.Split(':')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        if (mount is null || free < 2)
        {
            Assert.Skip($"needs a hugetlbfs mount and 2 free 2 MiB huge pages (mount: {mount ?? "none"}, free: {free}).");
        }

        string path = Path.Combine(mount, $"ferry-test-{Guid.NewGuid():N}");
        try
        {
            using var memory = GuestMemory.Create(path, 2L * HugePage, HugePage);
            var data = new byte[HugePage];
            data[^1] = 7;
            memory.WritePages(1, data); // hugetlbfs has no write(): this goes through the mapping

            Assert.Equal(2, memory.PageCount);
            Assert.Equal(7, memory.GetPage(1)[HugePage - 1]);
            var back = new byte[HugePage];
            memory.ReadPages(1, back);
            Assert.Equal(data, back);
            // hugetlbfs has no SEEK_HOLE: the whole file counts as data, so nothing is skipped unread.
            Assert.Equal([new PageRange(0, 2)], memory.GetAllocatedRanges());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Pages_read_and_written_through_the_file_match_the_mapping()
    {
        using var memory = GuestMemory.CreateMemfd("pread", 1L << 20);
        var data = new byte[2 * Page];
        new Random(3).NextBytes(data);

        memory.WritePages(10, data);
        var back = new byte[2 * Page];
        memory.ReadPages(10, back);

        Assert.Equal(data, back);
        Assert.True(memory.GetPage(11).SequenceEqual(data.AsSpan(Page)));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.WritePages(memory.PageCount - 1, data));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.ReadPages(0, new byte[Page + 1]));
        Assert.Equal(memory.Size, memory.FileLength);
    }

    [Fact]
    public void Sizes_that_are_not_whole_pages_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GuestMemory.CreateMemfd("odd", Page + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => GuestMemory.CreateMemfd("empty", 0));
    }

    internal static void SkipUnlessShmemHugePagesAreOff()
    {
        // With shmem THP on, tmpfs allocates 2 MiB at a time and SEEK_DATA reports whole huge pages.
        const string Setting = "/sys/kernel/mm/transparent_hugepage/shmem_enabled";
        if (File.Exists(Setting) && !File.ReadAllText(Setting).Contains("[never]", StringComparison.Ordinal))
        {
            Assert.Skip("shmem transparent huge pages are enabled; allocation granularity is 2 MiB here.");
        }
    }
}
