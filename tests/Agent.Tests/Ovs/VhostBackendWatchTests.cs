using Ferry.Agent.Ovs;
using Ferry.Agent.Tests.Support;

namespace Ferry.Agent.Tests.Ovs;

/// <summary>
/// Reading ovs-vswitchd's log for a guest's vhost-user backends. The lines are OVS 3.1 / DPDK 22.11's own,
/// as logged here when a guest's NICs came up with and without DPDK's ring mempool driver.
/// </summary>
[Trait("Tier", "fast")]
public sealed class VhostBackendWatchTests
{
    private const string Added0 = "2026-12-06T21:43:03.340Z|00079|netdev_dpdk|INFO|vHost Device '/run/x/ovs/lf-0' has been added on numa node 0";
    private const string Added1 = "2026-12-06T21:43:03.359Z|00088|netdev_dpdk|INFO|vHost Device '/run/x/ovs/lf-1' has been added on numa node 0";

    [Fact]
    public async Task Ports_whose_devices_were_added_without_an_error_have_a_backend()
    {
        using var directory = new TestDirectory();
        var log = directory.File("ovs-vswitchd.log");
        File.WriteAllText(log, "2026-12-06T21:40:00Z|00001|netdev_dpdk|ERR|Failed to create memory pool for netdev lf-0, with MTU 1500 on socket 0: Invalid argument\n");
        var watch = VhostBackendWatch.From(log);
        File.AppendAllLines(log, [Added0, Added1]);

        var seen = await watch.WaitAsync(["lf-0", "lf-1"], TimeSpan.FromSeconds(5), TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.Contains("lf-1", seen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mempool_that_could_not_be_created_fails_the_wait_with_what_ovs_said()
    {
        using var directory = new TestDirectory();
        var log = directory.File("ovs-vswitchd.log");
        File.WriteAllText(log, "");
        var watch = VhostBackendWatch.From(log);
        File.AppendAllLines(log,
        [
            Added0,
            "2026-12-06T21:43:03.353Z|00081|netdev_dpdk|ERR|Failed to create mempool \"ovs6ffa666e00021580262144\" with a request of 262144 mbufs",
            "2026-12-06T21:43:03.353Z|00082|netdev_dpdk|ERR|Failed to create memory pool for netdev lf-0, with MTU 1500 on socket 0: Invalid argument",
            "2026-12-06T21:43:03.353Z|00083|dpif_netdev|ERR|Failed to set interface lf-0 new configuration",
            Added1,
        ]);

        var failure = await Assert.ThrowsAsync<OvsCommandException>(() => watch.WaitAsync(["lf-0", "lf-1"], TimeSpan.FromSeconds(5), TimeProvider.System, TestContext.Current.CancellationToken));

        Assert.Contains("Failed to create memory pool for netdev lf-0", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_that_never_comes_up_fails_the_wait_naming_the_port_and_the_last_errors()
    {
        using var directory = new TestDirectory();
        var log = directory.File("ovs-vswitchd.log");
        File.WriteAllText(log, "");
        var watch = VhostBackendWatch.From(log);
        File.AppendAllLines(log, [Added0, "2026-12-06T21:43:03.400Z|00090|dpdk|ERR|VHOST_CONFIG: (/run/x/ovs/lf-1) failed to allocate memory for dev->mem"]);

        var failure = await Assert.ThrowsAsync<OvsCommandException>(() => watch.WaitAsync(["lf-0", "lf-1"], TimeSpan.FromMilliseconds(300), TimeProvider.System, TestContext.Current.CancellationToken));

        Assert.Contains("lf-1", failure.Message, StringComparison.Ordinal);
        Assert.Contains("dev->mem", failure.Message, StringComparison.Ordinal);
    }
}
