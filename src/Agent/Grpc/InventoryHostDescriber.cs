using Ferry.Agent.Inventory;
using Ferry.Agent.Qemu;
using ProtoInventory = Ferry.Contracts.HostInventory;
using ProtoGuestAccelerator = Ferry.Contracts.GuestAccelerator;
using ProtoHugepagePool = Ferry.Contracts.HugepagePool;

namespace Ferry.Agent.Grpc;

/// <summary>
/// The host inventory in the contract's shape. KVM is reported as guests will actually get it: a
/// launcher forced to TCG makes the host a TCG host whatever /dev/kvm says, and each kind of guest
/// is reported with the accelerator the launcher chose for it.
/// </summary>
internal sealed class InventoryHostDescriber(IHostInventory inventory, IQemuLauncher launcher) : IHostDescriber
{
    public async Task<ProtoInventory> DescribeAsync(CancellationToken cancellationToken)
    {
        var host = await inventory.CollectAsync(cancellationToken);
        var firmware = launcher.AcceleratorFor(GuestKind.Firmware);
        var kvm = host.Kvm.Available && firmware.Accelerator == Accelerator.Kvm;
        var reply = new ProtoInventory
        {
            CpuModel = host.CpuModel,
            Kvm = kvm,
            KvmReason = kvm ? string.Empty : host.Kvm.Available ? firmware.Reason : host.Kvm.Reason,

            // What a new guest could get without swapping: the number placement needs, page cache included.
            MemoryFreeMib = host.MemoryAvailableMiB,
            QemuVersion = host.Qemu.Version ?? string.Empty,
            OvsVersion = host.Ovs.Version ?? string.Empty,
            DpdkInitialized = host.Ovs.Switch?.DpdkInitialized ?? false,
        };
        reply.CpuFlags.AddRange(host.CpuFlags);
        foreach (var (kind, name) in new[] { (GuestKind.Firmware, "firmware"), (GuestKind.Linux, "linux") })
        {
            var choice = launcher.AcceleratorFor(kind);
            reply.Accelerators.Add(new ProtoGuestAccelerator { GuestKind = name, Accelerator = choice.Name, Reason = choice.Reason });
        }

        reply.Hugepages.AddRange(host.Hugepages.Select(p => new ProtoHugepagePool { PageSizeKib = p.PageSizeKiB, Total = p.Total, Free = p.Free }));
        foreach (var tracker in host.DirtyTrackers)
        {
            if (tracker.Available)
            {
                reply.DirtyTracking.Add(DirtyTrackerNames.Of(tracker));
            }
            else
            {
                reply.DirtyTrackingUnavailable[DirtyTrackerNames.Of(tracker)] = tracker.Reason;
            }
        }

        return reply;
    }
}
