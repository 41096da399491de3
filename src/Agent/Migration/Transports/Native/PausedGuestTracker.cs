using Ferry.Transfer.Dirty;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// The tracker of a paused copy: the guest is stopped before the first page is read and stays
/// stopped until it runs at the target, and a stopped QEMU (its vhost-user rings stopped with it)
/// writes nothing, so there is never a dirty page to report.
/// </summary>
internal sealed class PausedGuestTracker : IDirtyTracker
{
    public DirtyTrackerKind Kind => DirtyTrackerKind.GuestPaused;

    public void Reset()
    {
    }

    public long CollectAndClear(DirtyPageSet dirty) => 0;

    public void Dispose()
    {
    }
}
