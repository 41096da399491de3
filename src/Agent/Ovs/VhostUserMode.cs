namespace Ferry.Agent.Ovs;

/// <summary>Which side of a vhost-user socket OVS plays.</summary>
public enum VhostUserMode
{
    /// <summary>
    /// <c>dpdkvhostuser</c>: OVS creates and listens on the socket, QEMU connects as a client
    /// (what <c>QemuCommandLine</c> builds). OVS 3.1 logs it as deprecated, but it needs no
    /// socket ownership handshake with QEMU.
    /// </summary>
    OvsServer,

    /// <summary>
    /// <c>dpdkvhostuserclient</c> with <c>options:vhost-server-path</c>: QEMU listens
    /// (<c>server=on</c>) and OVS reconnects whenever QEMU comes back, so an OVS restart does not
    /// need a guest restart.
    /// </summary>
    OvsClient,
}
