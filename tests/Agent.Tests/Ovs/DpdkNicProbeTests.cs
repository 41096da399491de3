using Ferry.Agent.Ovs;
using Ferry.Agent.Tests.Support;

namespace Ferry.Agent.Tests.Ovs;

[Trait("Tier", "fast")]
public sealed class DpdkNicProbeTests
{
    [Fact]
    public void A_device_bound_to_vfio_pci_counts_as_a_dpdk_nic()
    {
        using var drivers = new TestDirectory();
        var vfio = Directory.CreateDirectory(drivers.File("vfio-pci")).FullName;
        File.WriteAllText(Path.Combine(vfio, "bind"), string.Empty);
        Directory.CreateDirectory(Path.Combine(vfio, "0000:00:04.0"));

        Assert.True(DpdkNicProbe.AnyBound(drivers.Path));
    }

    [Fact]
    public void Dpdk_drivers_without_devices_and_nics_on_kernel_drivers_do_not_count()
    {
        using var drivers = new TestDirectory();
        var vfio = Directory.CreateDirectory(drivers.File("vfio-pci")).FullName;
        File.WriteAllText(Path.Combine(vfio, "new_id"), string.Empty);
        Directory.CreateDirectory(Path.Combine(drivers.File("virtio-pci"), "0000:00:03.0"));

        Assert.False(DpdkNicProbe.AnyBound(drivers.Path));
        Assert.False(DpdkNicProbe.AnyBound(drivers.File("missing")));
    }
}
