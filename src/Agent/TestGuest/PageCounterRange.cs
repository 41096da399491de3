namespace Ferry.Agent.TestGuest;

/// <summary>
/// The guest-physical range the page counter sweeps: [<see cref="Start"/>, <see cref="End"/>), 4 KiB pages.
/// It starts at 1 MiB, above the BIOS and the boot sector, and stops short of the top of RAM
/// where the BIOS keeps its tables.
/// </summary>
public sealed record PageCounterRange(uint Start, uint End)
{
    public const int PageSize = 4096;

    public int Pages => (int)((End - Start) / PageSize);

    /// <summary>The standard range for a guest with <paramref name="memoryMiB"/> MiB of RAM.</summary>
    public static PageCounterRange ForGuest(int memoryMiB)
    {
        // Keep below 3 GiB so the range is one linear chunk of the RAM file on the pc machine
        // (RAM above the PCI hole is mapped elsewhere in guest-physical space).
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryMiB, 4);
        var top = (uint)Math.Min(memoryMiB, 3072) * 1024u * 1024u;
        return new PageCounterRange(1024 * 1024, top - (1024 * 1024));
    }
}
