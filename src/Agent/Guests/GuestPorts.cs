using Ferry.Agent.Ovs;
using Ferry.Agent.Probe;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Guests;

/// <summary>
/// A guest's vhost-user ports on the host's OVS-DPDK bridge: <c>dpdkvhostuserclient</c> ports created
/// before its QEMU starts (OVS keeps trying to connect to the socket QEMU will listen on, so QEMU, which
/// waits at start for that connection, finds it within a second) and removed after that QEMU is gone,
/// which for a migration source is the deferred cleanup, outside the downtime.
/// </summary>
internal sealed partial class GuestPorts(IOvsSwitch? ovs, ILogger<GuestPorts> logger)
{
    /// <summary>From the guest saying its NICs are up to OVS having a device for each: 0.1–0.7 s seen here, seconds under load.</summary>
    private static readonly TimeSpan BackendTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Adds the ports, whose sockets QEMU will create in <paramref name="socketDirectory"/> (its instance
    /// directory). Ports added before a failure are removed again.
    /// </summary>
    /// <exception cref="OvsCommandException">This agent runs no switch, or OVS refused a port.</exception>
    public async Task AttachAsync(string guest, IReadOnlyList<string> ports, string socketDirectory, CancellationToken cancellationToken)
    {
        if (ports.Count == 0)
        {
            return;
        }

        if (ovs is null)
        {
            throw new OvsCommandException($"Guest '{guest}' has vhost-user ports ({string.Join(", ", ports)}) but this agent runs no OVS-DPDK switch (Ferry:Ovs:Enabled is false).");
        }

        // Idempotent, and fast once the switch runs; it also restarts daemons that died since.
        await ovs.EnsureStartedAsync(cancellationToken);
        var added = new List<string>();
        try
        {
            foreach (var port in ports)
            {
                await ovs.AddVhostUserPortAsync(port, VhostUserMode.OvsClient, socketDirectory, cancellationToken);
                added.Add(port);
            }
        }
        catch
        {
            await DetachAsync(guest, added);
            throw;
        }
    }

    /// <summary>Starts reading what ovs-vswitchd logs from now on, to learn whether the ports of a guest about to start get a backend.</summary>
    public VhostBackendWatch? WatchBackends() => ovs is null ? null : VhostBackendWatch.From(ovs.VswitchdLogFile);

    /// <summary>
    /// Waits until OVS brought up a backend for each port (after the guest's driver started its NICs) and
    /// configured it without an error.
    /// </summary>
    /// <exception cref="OvsCommandException">A port got no backend; the message carries what OVS logged.</exception>
    public async Task WaitForBackendsAsync(string guest, IReadOnlyList<string> ports, VhostBackendWatch? watch, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (watch is null || ports.Count == 0)
        {
            return;
        }

        var added = await watch.WaitAsync(ports, BackendTimeout, timeProvider, cancellationToken);
        Log.BackendsUp(logger, guest, added);
    }

    /// <summary>Removes the ports; a failure is logged, not thrown: the guest is gone either way, and a left port is only a name.</summary>
    public async Task DetachAsync(string guest, IReadOnlyList<string> ports)
    {
        if (ovs is null || ports.Count == 0)
        {
            return;
        }

        try
        {
            // A probe's rules towards this guest (set when it arrived here) go with its ports.
            await ovs.EnsureStartedAsync(CancellationToken.None);
            await ovs.RemoveSteeringAsync(ProbeSteering.GuestCookie(guest), CancellationToken.None);
        }
        catch (OvsCommandException ex)
        {
            Log.RemoveFailed(logger, "probe rules", guest, ex.Message);
        }

        foreach (var port in ports)
        {
            try
            {
                // Idempotent; after an agent restart the switch may not be up yet.
                await ovs.EnsureStartedAsync(CancellationToken.None);
                await ovs.RemovePortAsync(port, CancellationToken.None);
            }
            catch (OvsCommandException ex)
            {
                Log.RemoveFailed(logger, port, guest, ex.Message);
            }
        }

        Log.Removed(logger, guest, string.Join(", ", ports));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.GuestPortRemoved, Level = LogLevel.Information, Message = "Guest {Guest}: vhost-user ports {Ports} removed")]
        public static partial void Removed(ILogger logger, string guest, string ports);

        [LoggerMessage(EventId = AgentEventIds.GuestPortRemoveFailed, Level = LogLevel.Warning, Message = "Port {Port} of guest {Guest} could not be removed: {Reason}")]
        public static partial void RemoveFailed(ILogger logger, string port, string guest, string reason);

        [LoggerMessage(EventId = AgentEventIds.GuestPortBackendsUp, Level = LogLevel.Information, Message = "Guest {Guest}: OVS-DPDK has a backend for every vhost-user port ({Added})")]
        public static partial void BackendsUp(ILogger logger, string guest, string added);
    }
}
