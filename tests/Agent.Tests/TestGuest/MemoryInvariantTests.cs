using Ferry.Agent.TestGuest;

namespace Ferry.Agent.Tests.TestGuest;

[Trait("Tier", "fast")]
public sealed class MemoryInvariantTests
{
    [Fact]
    public void All_pages_equal_holds_without_an_edge()
    {
        var result = MemoryInvariant.Check([7, 7, 7, 7]);

        Assert.True(result.Holds);
        Assert.Null(result.EdgePage);
        Assert.True(result.GuestHasRun);
    }

    [Fact]
    public void One_step_down_by_one_where_the_vcpu_stopped_holds()
    {
        var result = MemoryInvariant.Check([9, 9, 9, 8, 8]);

        Assert.True(result.Holds);
        Assert.Equal(3, result.EdgePage);
    }

    [Fact]
    public void A_step_across_the_counter_wrap_from_0_to_255_holds()
    {
        var result = MemoryInvariant.Check([0, 0, 255, 255, 255]);

        Assert.True(result.Holds);
        Assert.Equal(2, result.EdgePage);
    }

    [Fact]
    public void Untouched_memory_holds_but_shows_the_guest_never_ran()
    {
        var result = MemoryInvariant.Check(new byte[16]);

        Assert.True(result.Holds);
        Assert.False(result.GuestHasRun);
    }

    [Fact]
    public void A_stale_page_in_the_middle_is_reported_with_its_address()
    {
        var result = MemoryInvariant.Check([5, 5, 4, 5, 5], firstPageAddress: 0x100000);

        Assert.False(result.Holds);
        Assert.Equal(3, result.FailingPage);
        Assert.Equal(0x100000 + (3 * 4096), result.FailingAddress);
        Assert.Contains("0x103000", result.Failure, StringComparison.Ordinal);
        Assert.Contains("pages by value: [0..1]=5, [2..2]=4, [3..4]=5", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_guest_that_booted_other_than_expected_fails_even_with_its_memory_intact()
    {
        var intact = MemoryInvariant.Check([7, 7, 6]);
        var broken = MemoryInvariant.Check([7, 0, 7]);

        Assert.Same(intact, intact.WithBoots(0, expected: 0, "counter-in-1"));
        Assert.Equal(2, PageCounterBootSector.Boots("SeaBIOS\nF...F"));
        var restarted = intact.WithBoots(1, expected: 0, "counter-in-1");
        Assert.False(restarted.Holds);
        Assert.Contains("booted 1 time(s) on counter-in-1, expected 0", restarted.Failure, StringComparison.Ordinal);
        var both = broken.WithBoots(2, expected: 1, "counter");
        Assert.StartsWith(broken.Failure!, both.Failure, StringComparison.Ordinal);
        Assert.Contains("booted 2 time(s)", both.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_maps_only_the_first_runs()
    {
        var counters = new byte[40];
        for (var i = 0; i < counters.Length; i++)
        {
            counters[i] = (byte)(i % 2 == 0 ? 9 : 3);
        }

        var result = MemoryInvariant.Check(counters);

        Assert.False(result.Holds);
        Assert.EndsWith("[7..7]=3 and 32 more runs", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_edges_fail_and_name_both()
    {
        var result = MemoryInvariant.Check([6, 6, 5, 5, 4, 4]);

        Assert.False(result.Holds);
        Assert.Equal(4, result.FailingPage);
        Assert.Contains("second step at page 4", result.Failure, StringComparison.Ordinal);
        Assert.Contains("page 2", result.Failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 5, 3 })]
    [InlineData(new byte[] { 5, 6 })]
    [InlineData(new byte[] { 255, 0 })]
    [InlineData(new byte[] { 1, 1, 1, 0, 0, 200 })]
    public void A_step_that_is_not_exactly_one_down_fails(byte[] counters)
    {
        Assert.False(MemoryInvariant.Check(counters).Holds);
    }

    [Fact]
    public async Task The_ram_file_reader_takes_the_first_byte_of_every_page_of_the_range()
    {
        using var directory = new Support.TestDirectory();
        var range = new PageCounterRange(0x100000, 0x100000 + (8 * 4096));
        var ram = new byte[range.End + 4096];
        for (var page = 0; page < 8; page++)
        {
            ram[range.Start + (page * 4096)] = page < 5 ? (byte)3 : (byte)2;
            ram[range.Start + (page * 4096) + 1] = 0xEE;
        }

        await File.WriteAllBytesAsync(directory.File("ram"), ram, TestContext.Current.CancellationToken);
        var holds = await MemoryInvariant.CheckRamFileAsync(directory.File("ram"), range, TestContext.Current.CancellationToken);
        ram[range.Start + (6 * 4096)] = 9;
        await File.WriteAllBytesAsync(directory.File("ram"), ram, TestContext.Current.CancellationToken);
        var broken = await MemoryInvariant.CheckRamFileAsync(directory.File("ram"), range, TestContext.Current.CancellationToken);

        Assert.True(holds.Holds, holds.ToString());
        Assert.Equal(5, holds.EdgePage);
        Assert.False(broken.Holds);
        Assert.Equal(range.Start + (6 * 4096), broken.FailingAddress);
    }
}
