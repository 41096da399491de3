using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Zero;

/// <summary>
/// Decides whether memory is all zero with the widest SIMD the CPU has. The reduction ORs
/// four vectors per block (independent loads keep the memory pipeline full) and tests once
/// per block, so a non-zero page costs at most one block beyond its first non-zero byte.
/// A three-byte sample first catches most non-zero pages without a scan.
/// </summary>
[SkipLocalsInit]
public static unsafe class ZeroPageDetector
{
    /// <summary>The widest path this CPU supports, chosen once at start-up.</summary>
    public static VectorWidth Width { get; } = DetectWidth();

    /// <summary>True when the CPU can run the given path (tests and benchmarks force each one).</summary>
    /// <param name="width">The path to check.</param>
    public static bool IsSupported(VectorWidth width) => width switch
    {
        VectorWidth.Scalar => true,
        VectorWidth.Vector128 => Vector128.IsHardwareAccelerated,
        VectorWidth.Vector256 => Vector256.IsHardwareAccelerated,
        VectorWidth.Vector512 => Vector512.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>True when every byte is zero.</summary>
    /// <param name="bytes">The bytes to check.</param>
    public static bool IsZero(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            return IsZero(p, bytes.Length, Width);
        }
    }

    /// <summary>True when every byte of <c>[pointer, pointer + length)</c> is zero.</summary>
    /// <param name="pointer">First byte.</param>
    /// <param name="length">Number of bytes; may exceed 2 GiB.</param>
    public static bool IsZero(byte* pointer, nint length) => IsZero(pointer, length, Width);

    /// <summary>True when every byte is zero, using the given path (which must be supported).</summary>
    /// <param name="pointer">First byte.</param>
    /// <param name="length">Number of bytes.</param>
    /// <param name="width">The path to run.</param>
    public static bool IsZero(byte* pointer, nint length, VectorWidth width)
    {
        if (length <= 0)
        {
            return true;
        }

        // Sampled pre-check: written guest pages rarely keep all three of these zero.
        if ((pointer[0] | pointer[length >> 1] | pointer[length - 1]) != 0)
        {
            return false;
        }

        return width switch
        {
            VectorWidth.Vector512 => IsZero512(pointer, length),
            VectorWidth.Vector256 => IsZero256(pointer, length),
            VectorWidth.Vector128 => IsZero128(pointer, length),
            _ => IsZeroScalar(pointer, length),
        };
    }

    /// <summary>Splits a range of pages into zero and non-zero runs.</summary>
    /// <param name="memory">The guest RAM.</param>
    /// <param name="range">Pages to classify; must lie inside the RAM.</param>
    public static PageRunEnumerator Runs(GuestMemory memory, PageRange range)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (range.First < 0 || range.Count < 0 || range.First > memory.PageCount || range.Count > memory.PageCount - range.First)
        {
            throw new ArgumentOutOfRangeException(nameof(range), range, "Range must lie inside the guest RAM.");
        }

        return new PageRunEnumerator(memory.Pointer, memory.PageSize, range, Width);
    }

    /// <summary>Splits a range of pages of a raw buffer into zero and non-zero runs.</summary>
    /// <param name="basePointer">Address of page 0.</param>
    /// <param name="pageSize">Page size in bytes.</param>
    /// <param name="range">Pages to classify; the caller guarantees they are readable.</param>
    /// <param name="width">The path to run.</param>
    public static PageRunEnumerator Runs(byte* basePointer, int pageSize, PageRange range, VectorWidth width) =>
        new(basePointer, pageSize, range, width);

    private static VectorWidth DetectWidth()
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return VectorWidth.Vector512;
        }

        if (Vector256.IsHardwareAccelerated)
        {
            return VectorWidth.Vector256;
        }

        return Vector128.IsHardwareAccelerated ? VectorWidth.Vector128 : VectorWidth.Scalar;
    }

    private static bool IsZero512(byte* p, nint length)
    {
        const int Size = 64;
        nint i = 0;
        for (; i <= length - 4 * Size; i += 4 * Size)
        {
            var acc = Vector512.Load(p + i) | Vector512.Load(p + i + Size)
                | Vector512.Load(p + i + 2 * Size) | Vector512.Load(p + i + 3 * Size);
            if (acc != Vector512<byte>.Zero)
            {
                return false;
            }
        }

        for (; i <= length - Size; i += Size)
        {
            if (Vector512.Load(p + i) != Vector512<byte>.Zero)
            {
                return false;
            }
        }

        return i == length || IsZero256(p + i, length - i);
    }

    private static bool IsZero256(byte* p, nint length)
    {
        const int Size = 32;
        nint i = 0;
        for (; i <= length - 4 * Size; i += 4 * Size)
        {
            var acc = Vector256.Load(p + i) | Vector256.Load(p + i + Size)
                | Vector256.Load(p + i + 2 * Size) | Vector256.Load(p + i + 3 * Size);
            if (acc != Vector256<byte>.Zero)
            {
                return false;
            }
        }

        for (; i <= length - Size; i += Size)
        {
            if (Vector256.Load(p + i) != Vector256<byte>.Zero)
            {
                return false;
            }
        }

        return i == length || IsZero128(p + i, length - i);
    }

    private static bool IsZero128(byte* p, nint length)
    {
        const int Size = 16;
        nint i = 0;
        for (; i <= length - 4 * Size; i += 4 * Size)
        {
            var acc = Vector128.Load(p + i) | Vector128.Load(p + i + Size)
                | Vector128.Load(p + i + 2 * Size) | Vector128.Load(p + i + 3 * Size);
            if (acc != Vector128<byte>.Zero)
            {
                return false;
            }
        }

        for (; i <= length - Size; i += Size)
        {
            if (Vector128.Load(p + i) != Vector128<byte>.Zero)
            {
                return false;
            }
        }

        return i == length || IsZeroScalar(p + i, length - i);
    }

    private static bool IsZeroScalar(byte* p, nint length)
    {
        nint i = 0;
        for (; i <= length - 32; i += 32)
        {
            if ((Unsafe.ReadUnaligned<ulong>(p + i) | Unsafe.ReadUnaligned<ulong>(p + i + 8)
                | Unsafe.ReadUnaligned<ulong>(p + i + 16) | Unsafe.ReadUnaligned<ulong>(p + i + 24)) != 0)
            {
                return false;
            }
        }

        for (; i <= length - 8; i += 8)
        {
            if (Unsafe.ReadUnaligned<ulong>(p + i) != 0)
            {
                return false;
            }
        }

        for (; i < length; i++)
        {
            if (p[i] != 0)
            {
                return false;
            }
        }

        return true;
    }
}
