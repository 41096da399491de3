using Ferry.Agent.Ovs;
using Ferry.Agent.Tests.Support;

namespace Ferry.Agent.Tests.Ovs;

[Trait("Tier", "fast")]
public sealed class DpdkDriversTests
{
    [Fact]
    public void A_plugin_directory_without_the_ring_mempool_driver_is_named_with_the_package_to_install()
    {
        using var root = new TestDirectory();
        Directory.CreateDirectory(Path.Combine(root.Path, "x86_64-linux-gnu", "dpdk", "pmds-23.0"));
        File.WriteAllBytes(Path.Combine(root.Path, "x86_64-linux-gnu", "dpdk", "pmds-23.0", "librte_net_vhost.so.23"), []);

        var missing = DpdkDrivers.MissingMempoolDriver(root.Path);

        Assert.NotNull(missing);
        Assert.Contains("librte-mempool-ring23", missing, StringComparison.Ordinal);
    }

    [Fact]
    public void The_ring_mempool_driver_in_a_plugin_directory_is_enough()
    {
        using var root = new TestDirectory();
        var plugins = Path.Combine(root.Path, "x86_64-linux-gnu", "dpdk", "pmds-23.0");
        Directory.CreateDirectory(plugins);
        File.WriteAllBytes(Path.Combine(plugins, "librte_mempool_ring.so.23"), []);

        Assert.Null(DpdkDrivers.MissingMempoolDriver(root.Path));
    }

    [Fact]
    public void This_machines_dpdk_has_the_ring_mempool_driver_that_install_deps_installs()
    {
        Assert.SkipUnless(Directory.Exists("/usr/lib/openvswitch-switch-dpdk"), "OVS-DPDK is not installed here");

        Assert.Null(DpdkDrivers.MissingMempoolDriver());
    }
}
