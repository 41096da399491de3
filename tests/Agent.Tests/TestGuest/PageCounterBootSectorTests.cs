using System.Buffers.Binary;
using Ferry.Agent.TestGuest;

namespace Ferry.Agent.Tests.TestGuest;

[Trait("Tier", "fast")]
public sealed class PageCounterBootSectorTests
{
    [Fact]
    public void The_boot_sector_is_512_bytes_with_the_bios_signature()
    {
        var sector = PageCounterBootSector.Build(PageCounterRange.ForGuest(256));

        Assert.Equal(512, sector.Length);
        Assert.Equal(0x55, sector[510]);
        Assert.Equal(0xAA, sector[511]);
    }

    [Fact]
    public void The_sweep_bounds_are_encoded_as_the_range_start_and_end()
    {
        var range = PageCounterRange.ForGuest(256);
        var sector = PageCounterBootSector.Build(range);

        // mov eax, start (B8 imm32) and cmp eax, end (3D imm32) must carry the range.
        var start = IndexOf(sector, 0xB8, range.Start);
        var end = IndexOf(sector, 0x3D, range.End);
        Assert.True(start > 0 && end > start);
    }

    [Fact]
    public void The_standard_range_starts_at_1_mib_and_ends_1_mib_below_the_top_of_ram()
    {
        var range = PageCounterRange.ForGuest(256);

        Assert.Equal(0x100000u, range.Start);
        Assert.Equal(255u * 1024 * 1024, range.End);
        Assert.Equal(254 * 256, range.Pages);
    }

    [Fact]
    public void A_range_below_1_mib_or_unaligned_is_refused()
    {
        Assert.Throws<ArgumentException>(() => PageCounterBootSector.Build(new PageCounterRange(0x7000, 0x200000)));
        Assert.Throws<ArgumentException>(() => PageCounterBootSector.Build(new PageCounterRange(0x100001, 0x200000)));
        Assert.Throws<ArgumentException>(() => PageCounterBootSector.Build(new PageCounterRange(0x200000, 0x100000)));
    }

    private static int IndexOf(byte[] code, byte opcode, uint immediate)
    {
        for (var i = 0; i < code.Length - 5; i++)
        {
            if (code[i] == opcode && BinaryPrimitives.ReadUInt32LittleEndian(code.AsSpan(i + 1)) == immediate)
            {
                return i;
            }
        }

        return -1;
    }
}
