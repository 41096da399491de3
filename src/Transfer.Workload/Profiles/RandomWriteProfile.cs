using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Workload.Profiles;

/// <summary>Writes one word into uniformly random pages at a fixed rate of pages per second.</summary>
internal sealed unsafe class RandomWriteProfile(GuestMemory memory, StateHeader* header, long pagesPerSecond) : IWorkloadProfile
{
    private readonly Pacer _pacer = new(pagesPerSecond);

    public void Initialise() => header->Random = 0x9E37_79B9_7F4A_7C15;

    public bool Step()
    {
        long pages = _pacer.Allowance(IWorkloadProfile.MaxWritesPerStep);
        if (pages == 0)
        {
            return false;
        }

        ulong x = header->Random;
        for (long i = 0; i < pages; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            long page = 1 + (long)(x % (ulong)(memory.PageCount - 1));
            *(ulong*)(memory.Pointer + page * memory.PageSize + (long)(x >> 52) * 8 % memory.PageSize) = x;
        }

        header->Random = x;
        header->Steps += (ulong)pages;
        return true;
    }
}
