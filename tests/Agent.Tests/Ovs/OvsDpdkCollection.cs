namespace Ferry.Agent.Tests.Ovs;

/// <summary>
/// Tests that run a real OVS-DPDK switch run one at a time and alone. Each switch has its own network
/// namespace (see <see cref="OvsTestSwitch"/>), so their <c>ovs-netdev</c> tap devices cannot collide;
/// what they would fight over is the machine: every ovs-vswitchd takes 256 MiB of hugepages and its PMD
/// thread spins core 1 at 100 %, on a 2-core host that also runs TCG guests for other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OvsDpdkCollection
{
    public const string Name = "ovs-dpdk";
}
