using Ferry.Agent.Ovs;

namespace Ferry.Agent.Inventory;

/// <summary>The OVS-DPDK side of the host.</summary>
/// <param name="Version">Open vSwitch version of the vswitchd binary, e.g. <c>3.1.0</c>.</param>
/// <param name="DpdkBuildVersion">The DPDK the binary is built with, e.g. <c>22.11.11</c>; null for a build without DPDK.</param>
/// <param name="Detail">The binary's <c>--version</c> output, or why it could not be run.</param>
/// <param name="Switch">The running switch (DPDK initialised, its DPDK version); null when the agent has no switch.</param>
public sealed record OvsInventory(string? Version, string? DpdkBuildVersion, string Detail, OvsSwitchStatus? Switch);
