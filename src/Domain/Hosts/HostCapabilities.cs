namespace Ferry.Domain.Hosts;

/// <summary>What a host can do, as its agent reports it (or an administrator declares it).</summary>
public sealed record HostCapabilities
{
    /// <summary>An empty inventory, for hosts declared before their agent registered.</summary>
    public static HostCapabilities Unknown { get; } = new();

    /// <summary>CPU model name as QEMU guests see it (Ferry runs guests with QEMU's default model).</summary>
    public string CpuModel { get; init; } = "";

    /// <summary>CPU feature flags, e.g. <c>avx2</c>, <c>avx512f</c>.</summary>
    public IReadOnlyList<string> CpuFlags { get; init; } = [];

    /// <summary>Whether <c>/dev/kvm</c> is usable; otherwise guests run under TCG.</summary>
    public bool Kvm { get; init; }

    /// <summary>The accelerator each kind of guest runs with on this host, and why.</summary>
    public IReadOnlyList<GuestAccelerator> Accelerators { get; init; } = [];

    /// <summary>Physical memory not in use, MiB.</summary>
    public long MemoryFreeMiB { get; init; }

    /// <summary>Hugepage pools per page size.</summary>
    public IReadOnlyList<HugepagePool> Hugepages { get; init; } = [];

    /// <summary>QEMU version, e.g. <c>7.2.0</c>.</summary>
    public string? QemuVersion { get; init; }

    /// <summary>Open vSwitch version, e.g. <c>3.1.0</c>.</summary>
    public string? OvsVersion { get; init; }

    /// <summary>Dirty-page trackers that work on this host, e.g. <c>uffd-wp</c>, <c>soft-dirty</c>.</summary>
    public IReadOnlyList<string> DirtyTracking { get; init; } = [];

    /// <summary>What guests of <paramref name="guestKind"/> run with here; null when the agent did not say.</summary>
    public GuestAccelerator? AcceleratorFor(string guestKind) =>
        Accelerators.FirstOrDefault(a => string.Equals(a.GuestKind, guestKind, StringComparison.Ordinal));

    /// <summary>Free hugepage memory of the given page size, MiB; 0 when the host has no such pool.</summary>
    public long FreeHugepagesMiB(long pageSizeKiB) =>
        Hugepages.Where(p => p.PageSizeKiB == pageSizeKiB).Sum(p => p.FreeMiB);
}
