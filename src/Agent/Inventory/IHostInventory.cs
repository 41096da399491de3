namespace Ferry.Agent.Inventory;

/// <summary>Looks at the host: CPU, KVM, memory, hugepages, QEMU, OVS-DPDK and the kernel's dirty-page trackers.</summary>
public interface IHostInventory
{
    /// <summary>
    /// Probes everything afresh (hugepages and memory change as guests come and go). Nothing is started:
    /// the switch's DPDK state is read only when the switch already runs. A probe that fails says why
    /// in its result; this throws only on cancellation.
    /// </summary>
    Task<HostInventory> CollectAsync(CancellationToken cancellationToken = default);
}
