using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Dirty;

/// <summary>
/// Opens the write-protect tracker for the pages one process writes to its mapping of a RAM file, after
/// <see cref="DirtyTrackerProbe.Kernel"/> found it works here.
/// </summary>
public static class DirtyTracking
{
    /// <summary>
    /// Opens a tracker for the pages process <paramref name="pid"/> writes to its mapping of
    /// <paramref name="memory"/>'s file. The process must have registered that mapping with
    /// <see cref="WriteProtectRegistration"/>.
    /// </summary>
    /// <param name="pid">The writing process.</param>
    /// <param name="memory">The RAM file (mapped here too, to learn its identity).</param>
    /// <param name="tracker">The tracker, when one works.</param>
    /// <param name="report">What was probed and found.</param>
    public static bool TryOpen(int pid, GuestMemory memory, out IDirtyTracker? tracker, out IReadOnlyList<TrackerVerdict> report)
    {
        ArgumentNullException.ThrowIfNull(memory);
        tracker = null;
        report = DirtyTrackerProbe.Kernel();
        if (!report[0].Available)
        {
            return false;
        }

        var mapping = ProcessMapping.Find(pid, memory.GetIdentity(), memory.Size, out string reason);
        if (mapping is null)
        {
            report = [report[0] with { Available = false, Reason = reason }, report[1]];
            return false;
        }

        tracker = new WrittenPageTracker(pid, mapping.Value.Start, mapping.Value.Length, memory.PageSize);
        return true;
    }

    /// <summary>Opens the write-protect tracker without probing (callers that probed already).</summary>
    /// <param name="pid">The writing process.</param>
    /// <param name="memory">The RAM file.</param>
    public static IDirtyTracker OpenWrittenPageTracker(int pid, GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        var mapping = ProcessMapping.Find(pid, memory.GetIdentity(), memory.Size, out string reason)
            ?? throw new InvalidOperationException(reason);
        return new WrittenPageTracker(pid, mapping.Start, mapping.Length, memory.PageSize);
    }
}
