using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Zero;

namespace Ferry.Transfer.Tests.Zero;

[Trait("Tier", "fast")]
public sealed unsafe class ZeroPageDetectorTests
{
    public static TheoryData<VectorWidth> Widths =>
        [VectorWidth.Scalar, VectorWidth.Vector128, VectorWidth.Vector256, VectorWidth.Vector512];

    private static readonly int[] Lengths = [1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 257, 511, 1000, 4095, 4096, 8192];

    [Fact]
    public void Dispatch_picks_the_widest_accelerated_width()
    {
        var expected = Vector512.IsHardwareAccelerated ? VectorWidth.Vector512
            : Vector256.IsHardwareAccelerated ? VectorWidth.Vector256
            : Vector128.IsHardwareAccelerated ? VectorWidth.Vector128
            : VectorWidth.Scalar;

        Assert.Equal(expected, ZeroPageDetector.Width);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void All_zero_buffers_are_zero_even_between_non_zero_neighbours(VectorWidth width)
    {
        SkipIfUnsupported(width);
        foreach (int length in Lengths)
        {
            using var buffer = new GuardedBuffer(length);

            Assert.True(ZeroPageDetector.IsZero(buffer.Pointer, length, width), $"length {length}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void A_single_non_zero_byte_is_found_at_every_position_class(VectorWidth width)
    {
        SkipIfUnsupported(width);
        foreach (int length in Lengths)
        {
            foreach (int position in PositionsOf(length))
            {
                using var buffer = new GuardedBuffer(length);
                buffer.Pointer[position] = 0x80;

                Assert.False(ZeroPageDetector.IsZero(buffer.Pointer, length, width), $"length {length}, non-zero at {position}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Every_single_position_of_a_page_is_found(VectorWidth width)
    {
        SkipIfUnsupported(width);
        using var buffer = new GuardedBuffer(4096);
        for (int position = 0; position < 4096; position++)
        {
            buffer.Pointer[position] = 1;
            Assert.False(ZeroPageDetector.IsZero(buffer.Pointer, 4096, width), $"non-zero at {position}");
            buffer.Pointer[position] = 0;
        }
    }

    [Fact]
    public void Span_overload_uses_the_dispatched_path()
    {
        var bytes = new byte[4096];
        Assert.True(ZeroPageDetector.IsZero(bytes));
        bytes[2049] = 1;
        Assert.False(ZeroPageDetector.IsZero(bytes));
        Assert.True(ZeroPageDetector.IsZero(ReadOnlySpan<byte>.Empty));
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Runs_alternate_between_zero_and_non_zero_pages(VectorWidth width)
    {
        SkipIfUnsupported(width);
        const int PageSize = 4096;
        using var buffer = new GuardedBuffer(16 * PageSize);
        int[] nonZero = [2, 3, 4, 9, 15];
        foreach (int page in nonZero)
        {
            buffer.Pointer[page * PageSize + 1234] = 7;
        }

        var runs = new List<PageRun>();
        foreach (var run in ZeroPageDetector.Runs(buffer.Pointer, PageSize, new PageRange(0, 16), width))
        {
            runs.Add(run);
        }

        Assert.Equal(
        [
            new PageRun(new PageRange(0, 2), true),
            new PageRun(new PageRange(2, 3), false),
            new PageRun(new PageRange(5, 4), true),
            new PageRun(new PageRange(9, 1), false),
            new PageRun(new PageRange(10, 5), true),
            new PageRun(new PageRange(15, 1), false),
        ], runs);
    }

    [Fact]
    public void Runs_of_guest_memory_cover_exactly_the_requested_range()
    {
        using var memory = GuestMemory.CreateMemfd("runs", 1L << 20);
        memory.GetPage(40)[4095] = 1;

        var runs = new List<PageRun>();
        foreach (var run in ZeroPageDetector.Runs(memory, new PageRange(32, 16)))
        {
            runs.Add(run);
        }

        Assert.Equal([new PageRun(new PageRange(32, 8), true), new PageRun(new PageRange(40, 1), false), new PageRun(new PageRange(41, 7), true)], runs);
        Assert.Throws<ArgumentOutOfRangeException>(() => ZeroPageDetector.Runs(memory, new PageRange(250, 10)));
    }

    private static IEnumerable<int> PositionsOf(int length)
    {
        var positions = new SortedSet<int> { 0, length - 1, length / 2 };
        foreach (int lane in new[] { 8, 16, 32, 64 })
        {
            foreach (int edge in new[] { lane, 2 * lane, 4 * lane, 8 * lane })
            {
                positions.Add(edge - 1);
                positions.Add(edge);
                positions.Add(edge + 1);
                positions.Add(length - edge);
                positions.Add(length - edge - 1);
            }
        }

        return positions.Where(p => p >= 0 && p < length);
    }

    private static void SkipIfUnsupported(VectorWidth width)
    {
        if (!ZeroPageDetector.IsSupported(width))
        {
            Assert.Skip($"{width} is not hardware-accelerated on this CPU.");
        }
    }

    /// <summary>A zeroed buffer with non-zero bytes right before and after it, to catch over-reads.</summary>
    private sealed class GuardedBuffer : IDisposable
    {
        private const int Guard = 128;
        private readonly byte* _block;
        private readonly int _length;

        public GuardedBuffer(int length)
        {
            _length = length;
            _block = (byte*)NativeMemory.AlignedAlloc((nuint)(length + 2 * Guard), 64);
            new Span<byte>(_block, length + 2 * Guard).Fill(0xFF);
            new Span<byte>(_block + Guard, length).Clear();
        }

        public byte* Pointer => _block + Guard;

        public void Dispose() => NativeMemory.AlignedFree(_block);
    }
}
