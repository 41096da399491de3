namespace Ferry.Agent.Inventory;

/// <summary>What the inventory runs and reads; bound from the <c>Ferry:Inventory</c> section.</summary>
public sealed record InventoryOptions
{
    public const string Section = "Ferry:Inventory";

    /// <summary>The QEMU the launcher runs (keep equal to <c>Ferry:Qemu:QemuBinary</c>).</summary>
    public string QemuBinary { get; init; } = "qemu-system-x86_64";

    /// <summary>The DPDK build of ovs-vswitchd (keep equal to <c>Ferry:Ovs:VswitchdBinary</c>).</summary>
    public string VswitchdBinary { get; init; } = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk";

    /// <summary>The KVM device whose presence and answers the inventory reports (keep equal to <c>Ferry:Qemu:KvmDevice</c>).</summary>
    public string KvmDevice { get; init; } = Qemu.AcceleratorProbe.DefaultKvmDevice;

    /// <summary>Where the kernel lists hugepage pools, one <c>hugepages-&lt;size&gt;kB</c> directory each.</summary>
    public string HugepagesDirectory { get; init; } = "/sys/kernel/mm/hugepages";

    /// <summary>Limit for one <c>--version</c> run.</summary>
    public TimeSpan VersionTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
