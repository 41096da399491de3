using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Tests.Support;

/// <summary>Fills guest memory with a recognisable pattern and snapshots it for comparison.</summary>
internal static class MemoryPattern
{
    public static void Fill(GuestMemory memory, int seed)
    {
        var random = new Random(seed);
        for (long page = 0; page < memory.PageCount; page++)
        {
            random.NextBytes(memory.GetPage(page));
        }
    }

    public static unsafe byte[] Snapshot(GuestMemory memory) =>
        new ReadOnlySpan<byte>(memory.Pointer, checked((int)memory.Size)).ToArray();

    public static unsafe bool Equals(GuestMemory memory, byte[] snapshot) =>
        new ReadOnlySpan<byte>(memory.Pointer, checked((int)memory.Size)).SequenceEqual(snapshot);

    /// <summary>Index of the first differing page, or -1.</summary>
    public static long FirstDifference(GuestMemory memory, byte[] snapshot)
    {
        for (long page = 0; page < memory.PageCount; page++)
        {
            if (!memory.GetPage(page).SequenceEqual(snapshot.AsSpan((int)(page * memory.PageSize), memory.PageSize)))
            {
                return page;
            }
        }

        return -1;
    }
}
