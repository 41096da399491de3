using Ferry.Transfer.Dirty;

namespace Ferry.Agent.Inventory;

/// <summary>The names the contract and the API's host capabilities give the kernel's dirty trackers.</summary>
public static class DirtyTrackerNames
{
    public const string UserfaultfdWriteProtect = "uffd-wp";
    public const string SoftDirty = "soft-dirty";

    /// <summary>The name of the tracker a kernel verdict of <see cref="DirtyTrackerProbe.Kernel"/> is about.</summary>
    public static string Of(TrackerVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        return verdict.Kind switch
        {
            DirtyTrackerKind.UserfaultfdWriteProtect => UserfaultfdWriteProtect,
            DirtyTrackerKind.SoftDirty => SoftDirty,
            _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict.Kind, "Only the kernel's trackers have a capability name."),
        };
    }
}
