using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Dirty;

/// <summary>
/// Reports which guest pages a process wrote. Collection is get-and-clear: a page written
/// after a collection started is reported by the next one, never lost.
/// </summary>
public interface IDirtyTracker : IDisposable
{
    /// <summary>The mechanism behind this tracker.</summary>
    DirtyTrackerKind Kind { get; }

    /// <summary>Forgets everything written so far; tracking starts afresh from now.</summary>
    void Reset();

    /// <summary>Adds every page written since the last collection or reset to <paramref name="dirty"/>, and clears them.</summary>
    /// <param name="dirty">The set to add to; its page count must match the RAM.</param>
    /// <returns>How many pages this collection reported (pages already in the set count again).</returns>
    long CollectAndClear(DirtyPageSet dirty);

    /// <summary>
    /// Like <see cref="CollectAndClear(DirtyPageSet)"/>, but only looks at the pages in
    /// <paramref name="within"/>; written pages elsewhere stay recorded for a later collection.
    /// The engine passes the RAM file's allocated ranges: a page the guest wrote is allocated, so
    /// a mostly empty RAM is not walked in full. Trackers that cannot narrow collect everything.
    /// </summary>
    /// <param name="dirty">The set to add to; its page count must match the RAM.</param>
    /// <param name="within">Ascending, non-overlapping page ranges to look at.</param>
    /// <returns>How many pages this collection reported.</returns>
    long CollectAndClear(DirtyPageSet dirty, IReadOnlyList<PageRange> within) => CollectAndClear(dirty);

    /// <summary>
    /// Adds the pages in <paramref name="within"/> written since the last collection to
    /// <paramref name="dirty"/> without clearing them, where the mechanism allows: the switch-over
    /// decision needs a count, and re-arming there would make the guest fault on its whole hot set
    /// just before it is paused (slowing the pause) for a state sync that the final collection
    /// repeats anyway. Trackers that cannot look without clearing collect and clear; either way
    /// the caller keeps <paramref name="dirty"/> until its next collection, so nothing is lost.
    /// </summary>
    /// <param name="dirty">The set to add to; its page count must match the RAM.</param>
    /// <param name="within">Ascending, non-overlapping page ranges to look at.</param>
    /// <returns>How many pages this look reported.</returns>
    long Peek(DirtyPageSet dirty, IReadOnlyList<PageRange> within) => CollectAndClear(dirty, within);
}
