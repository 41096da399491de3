namespace Ferry.Agent.Ovs;

/// <summary>
/// The host's OVS-DPDK switch as the agent uses it: one <c>datapath_type=netdev</c> bridge and one
/// vhost-user port per guest NIC. Either the host's own OVS or ovsdb-server and ovs-vswitchd the
/// agent starts and supervises itself. Every call is idempotent.
/// </summary>
public interface IOvsSwitch : IAsyncDisposable
{
    /// <summary>The agent's bridge.</summary>
    string Bridge { get; }

    /// <summary>Where <c>dpdkvhostuser</c> sockets appear (and client-mode sockets are looked for when no other directory is given), one per port, named after the port.</summary>
    string VhostUserSocketDirectory { get; }

    /// <summary>
    /// The ovs-vswitchd process, which maps the RAM of every guest with vhost-user ports; null for a
    /// system instance (the agent did not start it) or while none runs.
    /// </summary>
    int? VswitchdProcessId { get; }

    /// <summary>Where ovs-vswitchd logs: the agent's log directory, or the system's for a system instance.</summary>
    string VswitchdLogFile { get; }

    /// <summary>
    /// Completes when a daemon the agent started exits without being asked (crash, OOM kill, kill -9).
    /// Never completes for a system instance or after an orderly stop. After it completed,
    /// <see cref="EnsureStartedAsync"/> restarts what died and a fresh task is returned.
    /// </summary>
    Task<OvsDaemonExit> UnexpectedExit { get; }

    /// <summary>
    /// Makes the switch ready: daemons running (or the system instance found), DPDK initialised, the
    /// bridge present with <c>datapath_type=netdev</c>.
    /// </summary>
    /// <exception cref="OvsCommandException">A daemon did not start or DPDK did not initialise.</exception>
    Task EnsureStartedAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds (or keeps) a vhost-user port on the bridge and returns the socket QEMU connects to or listens on.</summary>
    /// <param name="port">The port's name; the socket is named after it.</param>
    /// <param name="mode">Which side listens.</param>
    /// <param name="socketDirectory">For <see cref="VhostUserMode.OvsClient"/>: where QEMU listens; <see cref="VhostUserSocketDirectory"/> when null.</param>
    /// <param name="cancellationToken">Cancels the wait for OVS.</param>
    /// <exception cref="ArgumentException">The name is not a valid <see cref="OvsName"/>, or a socket directory was given for a server-mode port; nothing ran.</exception>
    /// <exception cref="OvsCommandException">OVS refused the port.</exception>
    Task<VhostUserPort> AddVhostUserPortAsync(string port, VhostUserMode mode = VhostUserMode.OvsServer, string? socketDirectory = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds (or keeps) an OVS <c>internal</c> port: on the netdev datapath a tap device of that name in
    /// ovs-vswitchd's network namespace, brought up, that a probe reads and writes with AF_PACKET.
    /// Returns its OpenFlow port number.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a valid <see cref="OvsName"/>; nothing ran.</exception>
    /// <exception cref="OvsCommandException">OVS refused the port.</exception>
    Task<int> AddInternalPortAsync(string port, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds (or keeps) an existing kernel interface in ovs-vswitchd's network namespace (a veth end
    /// towards another host's bridge) as a plain system port, which the netdev datapath reads and
    /// writes with AF_PACKET. Returns its OpenFlow port number.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a valid <see cref="OvsName"/>; nothing ran.</exception>
    /// <exception cref="OvsCommandException">OVS refused the port (no such interface).</exception>
    Task<int> AddSystemPortAsync(string port, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends every frame that enters the bridge on <paramref name="fromPort"/> out of <paramref name="toPorts"/>
    /// alone, ahead of the bridge's normal learning switch (an OpenFlow rule, replaced when set again).
    /// Several ports reach a guest wherever it is, e.g. its local NIC and the link to the host it may
    /// migrate to; a port without a connected guest drops what it is given. Only <paramref name="fromPort"/>
    /// itself drops every frame.
    /// </summary>
    /// <exception cref="ArgumentException">A name is not a valid <see cref="OvsName"/>; nothing ran.</exception>
    /// <exception cref="OvsCommandException">A port does not exist or OVS refused the rule.</exception>
    Task SteerAsync(string fromPort, IReadOnlyList<string> toPorts, CancellationToken cancellationToken = default);

    /// <summary>Removes what <see cref="SteerAsync(string, IReadOnlyList{string}, CancellationToken)"/> set for frames entering on <paramref name="fromPort"/>; its frames take the normal path again.</summary>
    /// <exception cref="ArgumentException">The name is not a valid <see cref="OvsName"/>; nothing ran.</exception>
    Task ClearSteeringAsync(string fromPort, CancellationToken cancellationToken = default);

    /// <summary>
    /// Installs <paramref name="rules"/> ahead of the bridge's normal learning switch, all tagged with
    /// <paramref name="cookie"/> so <see cref="RemoveSteeringAsync"/> takes exactly them away again. A rule with
    /// the same match as an existing one replaces it (and its cookie).
    /// </summary>
    /// <exception cref="ArgumentException">A name is not a valid <see cref="OvsName"/>; nothing ran.</exception>
    /// <exception cref="OvsCommandException">A port does not exist or OVS refused a rule; rules before it stay.</exception>
    Task SteerAsync(ulong cookie, IReadOnlyList<SteeringRule> rules, CancellationToken cancellationToken = default);

    /// <summary>Removes every rule tagged with <paramref name="cookie"/>; none is fine.</summary>
    Task RemoveSteeringAsync(ulong cookie, CancellationToken cancellationToken = default);

    /// <summary>
    /// The interface's <c>status</c> column as OVS reports it, e.g. for a vhost-user port
    /// <c>mode=server, status=connected</c> once the guest's driver started the device.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a valid <see cref="OvsName"/>; nothing ran.</exception>
    Task<IReadOnlyDictionary<string, string>> GetInterfaceStatusAsync(string port, CancellationToken cancellationToken = default);

    /// <summary>
    /// The interface's <c>statistics</c> column: OVS's packet, byte, drop and error counters, e.g.
    /// <c>tx_packets</c> into a vhost-user guest and <c>tx_dropped</c> when its receive ring had no room.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a valid <see cref="OvsName"/>; nothing ran.</exception>
    Task<IReadOnlyDictionary<string, string>> GetInterfaceStatisticsAsync(string port, CancellationToken cancellationToken = default);

    /// <summary>Removes the port if it exists.</summary>
    /// <exception cref="ArgumentException">The name is not a valid <see cref="OvsName"/>; nothing ran.</exception>
    Task RemovePortAsync(string port, CancellationToken cancellationToken = default);

    /// <summary>The ports on the agent's bridge.</summary>
    Task<IReadOnlyList<string>> ListPortsAsync(CancellationToken cancellationToken = default);

    /// <summary>Running, DPDK state and versions, without starting anything.</summary>
    Task<OvsSwitchStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops what the agent started: removes its bridge (the netdev bridge's tap device outlives
    /// ovs-vswitchd otherwise), asks ovs-vswitchd and ovsdb-server to exit (killing them after
    /// <see cref="OvsOptions.StopTimeout"/>), and removes the run directory's state; logs stay.
    /// A system instance is left alone.
    /// </summary>
    Task StopAsync(CancellationToken cancellationToken = default);
}
