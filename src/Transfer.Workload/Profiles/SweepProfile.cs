using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Workload.Profiles;

/// <summary>
/// Stamps a per-page counter into pages 1.. in address order, like QEMU's migration test guest:
/// at any moment every page equals its predecessor except at one edge, where it is exactly one
/// less. A lost or stale page after migration breaks that invariant.
/// </summary>
internal sealed unsafe class SweepProfile(GuestMemory memory, StateHeader* header, long pagesPerSecond) : IWorkloadProfile
{
    private readonly Pacer _pacer = new(pagesPerSecond);

    public void Initialise()
    {
        header->SweepValue = 1;
        header->SweepPage = 1;
    }

    public bool Step()
    {
        long pages = _pacer.Allowance(IWorkloadProfile.MaxWritesPerStep);
        if (pages == 0)
        {
            return false;
        }

        for (long i = 0; i < pages; i++)
        {
            long page = header->SweepPage;
            *(ulong*)(memory.Pointer + page * memory.PageSize) = header->SweepValue;
            if (page + 1 >= memory.PageCount)
            {
                header->SweepPage = 1;
                header->SweepValue++;
            }
            else
            {
                header->SweepPage = page + 1;
            }
        }

        header->Steps += (ulong)pages;
        return true;
    }
}
