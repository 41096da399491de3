namespace Ferry.Agent.Ovs;

/// <summary>A vhost-user port on the agent's bridge and the socket QEMU's chardev uses.</summary>
/// <param name="Name">Port and interface name.</param>
/// <param name="SocketPath">The UNIX socket of the port: created by OVS in <see cref="VhostUserMode.OvsServer"/> mode, by QEMU otherwise.</param>
/// <param name="Mode">Which side listens.</param>
/// <param name="OpenFlowPort">The OpenFlow port number OVS assigned (positive once OVS accepted the interface).</param>
public sealed record VhostUserPort(string Name, string SocketPath, VhostUserMode Mode, int OpenFlowPort);
