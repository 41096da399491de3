namespace Ferry.Agent.Ovs;

/// <summary>What the switch reports about itself, for the host inventory.</summary>
/// <param name="Running">ovsdb-server answers and, for an agent-run switch, ovs-vswitchd runs.</param>
/// <param name="SystemInstance">The host's own OVS is used; the agent started nothing.</param>
/// <param name="DpdkInitialized">The <c>Open_vSwitch</c> row's <c>dpdk_initialized</c>.</param>
/// <param name="DpdkVersion">The <c>Open_vSwitch</c> row's <c>dpdk_version</c>, e.g. <c>DPDK 22.11.11</c>.</param>
/// <param name="Bridge">The agent's bridge.</param>
/// <param name="Detail">Why not running, or where it runs.</param>
public sealed record OvsSwitchStatus(bool Running, bool SystemInstance, bool DpdkInitialized, string? DpdkVersion, string Bridge, string Detail);
