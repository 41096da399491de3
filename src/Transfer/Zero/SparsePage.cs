using System.Numerics;
using System.Runtime.Intrinsics;

namespace Ferry.Transfer.Zero;

/// <summary>
/// Splits a page into <see cref="Chunks"/> equal chunks and finds the ones holding a non-zero
/// byte. A page a guest re-dirties is often mostly zero: a packet buffer written with a 64-byte
/// frame and its header, a descriptor ring slot. Sending only its non-zero chunks (and saying
/// the rest is zero) moves the same page in a fraction of the bytes; the page is still sent
/// whole, so nothing depends on what the destination held before.
/// </summary>
public static unsafe class SparsePage
{
    /// <summary>Chunks per page: one bit each in a 64-bit mask.</summary>
    public const int Chunks = 64;

    /// <summary>At most this many non-zero chunks for a page to travel sparse: then it costs at most half a page.</summary>
    public const int MaxPresentChunks = Chunks / 2;

    /// <summary>
    /// The mask of non-zero chunks of a page, when at most <see cref="MaxPresentChunks"/> of them
    /// are non-zero; false as soon as more are (a dense page is not read to its end).
    /// </summary>
    /// <param name="page">First byte of the page.</param>
    /// <param name="pageSize">Page size, a multiple of <see cref="Chunks"/> × 16 bytes.</param>
    /// <param name="mask">Bit <c>i</c> set when chunk <c>i</c> holds a non-zero byte.</param>
    public static bool TryGetMask(byte* page, int pageSize, out ulong mask)
    {
        int chunk = pageSize / Chunks;
        mask = 0;
        int present = 0;
        for (int i = 0; i < Chunks; i++)
        {
            if (!IsZeroChunk(page + (nint)i * chunk, chunk))
            {
                mask |= 1UL << i;
                if (++present > MaxPresentChunks)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Bytes a sparse page takes on the wire after its 16-byte entry header.</summary>
    /// <param name="mask">Its chunk mask.</param>
    /// <param name="pageSize">Page size.</param>
    public static int DataBytes(ulong mask, int pageSize) => BitOperations.PopCount(mask) * (pageSize / Chunks);

    private static bool IsZeroChunk(byte* p, int length)
    {
        if (length == 64 && Vector256.IsHardwareAccelerated)
        {
            return (Vector256.Load(p) | Vector256.Load(p + 32)) == Vector256<byte>.Zero;
        }

        if (length == 64 && Vector128.IsHardwareAccelerated)
        {
            return (Vector128.Load(p) | Vector128.Load(p + 16) | Vector128.Load(p + 32) | Vector128.Load(p + 48)) == Vector128<byte>.Zero;
        }

        return ZeroPageDetector.IsZero(p, length);
    }
}
