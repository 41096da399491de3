using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Tests.Support;

/// <summary>
/// The real tracker, plus every page reported dirty on each collection: a guest that dirties
/// faster than any link, on demand. A real guest cannot promise that on a loaded machine (a
/// starved guest dirties nothing for a pass, and the migration rightly converges).
/// </summary>
internal sealed class EveryPageDirtyTracker(IDirtyTracker inner) : IDirtyTracker
{
    public DirtyTrackerKind Kind => inner.Kind;

    public void Reset() => inner.Reset();

    public long CollectAndClear(DirtyPageSet dirty)
    {
        inner.CollectAndClear(dirty);
        dirty.Add(new PageRange(0, dirty.PageCount));
        return dirty.PageCount;
    }

    public void Dispose() => inner.Dispose();
}
