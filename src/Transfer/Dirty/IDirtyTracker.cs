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
}
