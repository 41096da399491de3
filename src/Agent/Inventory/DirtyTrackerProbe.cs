namespace Ferry.Agent.Inventory;

/// <summary>One kernel dirty-page tracker and whether this host has it.</summary>
/// <param name="Name"><see cref="UserfaultfdWriteProtect"/> or <see cref="SoftDirty"/>, the names the API's host capabilities use.</param>
/// <param name="Available">The kernel offers it.</param>
/// <param name="Reason">What the probe saw.</param>
public sealed record DirtyTrackerProbe(string Name, bool Available, string Reason)
{
    public const string UserfaultfdWriteProtect = "uffd-wp";
    public const string SoftDirty = "soft-dirty";
}
