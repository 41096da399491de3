namespace Ferry.Agent.Ovs;

/// <summary>
/// Where the agent's own OVS lives and how DPDK is set up; bound from the <c>Ferry:Ovs</c> section.
/// The defaults fit a 2-core host: DPDK's main lcore on core 0, one PMD thread busy-polling core 1.
/// </summary>
public sealed record OvsOptions
{
    public const string Section = "Ferry:Ovs";

    /// <summary>
    /// Whether the agent runs a switch at all. Guests with vhost-user ports need one; a host that only
    /// runs guests without NICs may turn it off and keep DPDK's hugepages and PMD core for guests.
    /// </summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// OVS_RUNDIR of the agent's switch: database socket, pid and control files and, because
    /// <c>vhost-sock-dir</c> is left unset, the sockets of server-mode (<c>dpdkvhostuser</c>) ports.
    /// Guests' ports are client-mode: their sockets are QEMU's, in its instance directory.
    /// Everything in it but <see cref="LogDirectory"/> is removed when the switch stops.
    /// </summary>
    public string RunDirectory { get; init; } = "/run/ferry-agent/ovs";

    /// <summary>ovsdb-server and ovs-vswitchd logs; kept after the switch stops.</summary>
    public string LogDirectory { get; init; } = "/var/log/ferry-agent/ovs";

    /// <summary>The host's own OVS database socket: when it answers, the agent uses that OVS and starts nothing.</summary>
    public string SystemDbSocket { get; init; } = "/var/run/openvswitch/db.sock";

    /// <summary>Set to false to always run the agent's own switch, even beside a system OVS.</summary>
    public bool UseSystemInstance { get; init; } = true;

    /// <summary>The OVSDB server the agent starts for its own switch.</summary>
    public string OvsdbServerBinary { get; init; } = "ovsdb-server";

    /// <summary>Creates the switch's database from <see cref="SchemaPath"/>.</summary>
    public string OvsdbToolBinary { get; init; } = "ovsdb-tool";

    /// <summary>Configures the bridge and ports through the database.</summary>
    public string VsctlBinary { get; init; } = "ovs-vsctl";

    /// <summary>Asks the daemons the agent started to exit (<c>ovs-appctl exit</c>).</summary>
    public string AppctlBinary { get; init; } = "ovs-appctl";

    /// <summary>Sets the OpenFlow rules that steer frames between ports.</summary>
    public string OfctlBinary { get; init; } = "ovs-ofctl";

    /// <summary>The DPDK build; Debian's <c>/usr/sbin/ovs-vswitchd</c> alternative points at the kernel-datapath build.</summary>
    public string VswitchdBinary { get; init; } = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk";

    /// <summary>The OVSDB schema of the <c>Open_vSwitch</c> database.</summary>
    public string SchemaPath { get; init; } = "/usr/share/openvswitch/vswitch.ovsschema";

    /// <summary>The <c>datapath_type=netdev</c> bridge guests' ports join; an OVS name, <c>[a-z0-9-]{1,15}</c>.</summary>
    public string Bridge { get; init; } = "br-ferry";

    /// <summary>Cores of DPDK's non-PMD lcores (<c>dpdk-lcore-mask</c>), hex.</summary>
    public string DpdkLcoreMask { get; init; } = "0x1";

    /// <summary>Cores of the PMD threads (<c>pmd-cpu-mask</c>), hex; each PMD spins one core at 100 %.</summary>
    public string PmdCpuMask { get; init; } = "0x2";

    /// <summary>
    /// Lets an idle PMD thread sleep up to this many microseconds per polling round (<c>pmd-maxsleep</c>,
    /// OVS 3.1+). 0, the default, busy-polls as NFV hosts do for the lowest latency; a shared or
    /// 2-core development machine sets a few hundred so that idle switches leave the core to guests,
    /// at the price of up to that much added latency when traffic starts.
    /// </summary>
    public int PmdMaxSleepMicroseconds { get; init; }

    /// <summary>Hugepage memory DPDK takes per NUMA socket at start, MiB (<c>dpdk-socket-mem</c>).</summary>
    public string DpdkSocketMem { get; init; } = "256";

    /// <summary>
    /// The most hugepage memory DPDK may hold per NUMA socket, MiB (<c>dpdk-socket-limit</c>); empty for
    /// <see cref="DpdkSocketMem"/> plus <see cref="DpdkHeadroomMiB"/> on every node that has memory.
    /// Unlimited, OVS's first mempool grows DPDK to about 1 GiB (it asks for 262144 mbufs and halves only
    /// on failure), which starves every other switch and hugepage guest on the host; bounded, the mempool
    /// halves until it fits. Bounded at exactly the socket memory, a guest's second NIC often could not
    /// get its memory table from DPDK's vhost library (<c>failed to allocate memory for dev-&gt;mem</c> or
    /// <c>dev-&gt;guest_pages</c>) while OVS was busy with its mempool as the first NIC came up, although the
    /// heap had room a moment later: QEMU then fell back to userspace virtio and the NIC passed nothing
    /// (one forwarding guest in three here). More socket memory did not help — the mempool grows into it
    /// (384 MiB: 131072 mbufs, 4.7 MiB left; 320: same failures) — headroom above it that the heap can grow
    /// into when needed did (none in 24 guests).
    /// </summary>
    public string DpdkSocketLimit { get; init; } = "";

    /// <summary>Room above the mempool for what vhost-user devices allocate when guests connect, MiB per node.</summary>
    public const int DpdkHeadroomMiB = 128;

    /// <summary>What <c>dpdk-socket-limit</c> is set to: <see cref="DpdkSocketLimit"/>, or the socket memory plus headroom (0, no memory on that node, stays 0).</summary>
    public string EffectiveDpdkSocketLimit => DpdkSocketLimit.Length > 0
        ? DpdkSocketLimit
        // TryParse, not Parse: options validation may read every property before OvsOptionsValidator refuses a malformed DpdkSocketMem.
        : string.Join(',', DpdkSocketMem.Split(',').Select(node => int.TryParse(node, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var mib) && mib > 0
            ? (mib + DpdkHeadroomMiB).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : "0"));

    /// <summary>
    /// Passes <c>--in-memory</c>: DPDK keeps no hugepage files and no <c>/var/run/dpdk/&lt;prefix&gt;</c>
    /// config, so the kernel frees its hugepages even when ovs-vswitchd is killed with SIGKILL, and two
    /// agents on one machine do not collide on DPDK's default <c>rte</c> prefix.
    /// </summary>
    public bool DpdkInMemory { get; init; } = true;

    /// <summary>Passes <c>--no-pci</c>: null decides by looking for a NIC bound to a DPDK driver.</summary>
    public bool? DpdkNoPci { get; init; }

    /// <summary>More EAL arguments, space-separated, appended to <c>dpdk-extra</c>.</summary>
    public string DpdkExtraArguments { get; init; } = "";

    /// <summary>
    /// Runs ovs-vswitchd in this named network namespace (<c>ip netns exec</c>) instead of the agent's.
    /// The userspace datapath opens a tap device called <c>ovs-netdev</c>, one per namespace, so two
    /// OVS-DPDK switches need two namespaces; empty keeps the agent's own.
    /// </summary>
    public string NetworkNamespace { get; init; } = "";

    /// <summary>
    /// Preloads <c>libferry-uffd.so</c> into the ovs-vswitchd the agent starts, so the native transport can
    /// track what DPDK writes into guests' RAM. Without it, a guest with vhost-user ports moves natively
    /// only as a paused copy, and says why.
    /// </summary>
    public bool PreloadDirtyTracker { get; init; } = true;

    /// <summary>
    /// Adds <see cref="OvsPorts.MempoolKeeperPort"/> to the bridge of a switch the agent runs, so OVS's packet
    /// mempool is made when the switch starts and outlives every guest, instead of being made inside a
    /// migration's network gap.
    /// </summary>
    public bool MempoolKeeper { get; init; } = true;

    /// <summary>How long ovsdb-server may take until its socket answers.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How long ovs-vswitchd may take until <c>dpdk_initialized</c> (1.4 s measured here, with 2 MiB pages).</summary>
    public TimeSpan DpdkInitTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Limit of one <c>ovs-vsctl</c> run, including its wait for ovs-vswitchd to apply the change.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a daemon may take to exit after being asked, before it is killed.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
