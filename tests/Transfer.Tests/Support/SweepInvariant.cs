using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Tests.Support;

/// <summary>
/// Checks the sweep profile's RAM: page 0 holds its state (value at offset 24, next page at 32);
/// pages 1.. hold stamps that equal the value before the next page and one less from it on.
/// </summary>
internal static unsafe class SweepInvariant
{
    public static (ulong Value, long NextPage) State(GuestMemory memory) =>
        (*(ulong*)(memory.Pointer + 32), *(long*)(memory.Pointer + 40));

    /// <summary>Null when the invariant holds, otherwise where it breaks.</summary>
    public static string? Violation(GuestMemory memory)
    {
        var (value, next) = State(memory);
        if (value == 0 || next < 1 || next >= memory.PageCount)
        {
            return $"state value={value} next={next} is not a sweep state";
        }

        for (long page = 1; page < memory.PageCount; page++)
        {
            ulong stamp = *(ulong*)memory.GetPagePointer(page);
            ulong expected = page < next ? value : value - 1;
            if (stamp != expected)
            {
                return $"page {page} holds {stamp}, expected {expected} (value {value}, next page {next})";
            }
        }

        return null;
    }
}
