using Ferry.Domain.Hosts;
using Ferry.Transfer.Dirty;

namespace Ferry.Agent.Inventory;

/// <summary>
/// What this host offers guests and migrations, as the agent registers it. The shape follows
/// <c>Ferry.Domain.Hosts.HostCapabilities</c> (CPU, KVM, free memory, hugepages, QEMU and OVS versions,
/// dirty tracking) so the agent can map it one to one, plus the probes' reasons.
/// </summary>
public sealed record HostInventory
{
    /// <summary>The first processor's <c>model name</c> from /proc/cpuinfo.</summary>
    public required string CpuModel { get; init; }

    /// <summary>CPU feature flags, sorted, e.g. <c>avx2</c>.</summary>
    public required IReadOnlyList<string> CpuFlags { get; init; }

    public required int CpuCount { get; init; }

    /// <summary>Whether the KVM device opens read-write; the reason says why not (guests then run under TCG).</summary>
    public required HostProbe Kvm { get; init; }

    public required long MemoryTotalMiB { get; init; }

    /// <summary>MemFree: memory nothing uses, not even the page cache.</summary>
    public required long MemoryFreeMiB { get; init; }

    /// <summary>MemAvailable: what a new guest could get without swapping, page cache included.</summary>
    public required long MemoryAvailableMiB { get; init; }

    public required IReadOnlyList<HugepagePool> Hugepages { get; init; }

    public required string KernelRelease { get; init; }

    public required ToolVersion Qemu { get; init; }

    public required OvsInventory Ovs { get; init; }

    /// <summary>What <see cref="DirtyTrackerProbe.Kernel"/> found of each kernel tracker.</summary>
    public required IReadOnlyList<TrackerVerdict> DirtyTrackers { get; init; }

    /// <summary>Names of the dirty trackers that work here, as <c>HostCapabilities.DirtyTracking</c> lists them.</summary>
    public IReadOnlyList<string> DirtyTracking => [.. DirtyTrackers.Where(t => t.Available).Select(DirtyTrackerNames.Of)];
}
