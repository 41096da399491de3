using Ferry.Agent.Ovs;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Probe;

/// <summary>
/// Runs migrations' probes on this host's OVS-DPDK bridge, joined to the other hosts' by
/// <see cref="ProbeOptions.FabricPort"/>. See <see cref="ProbeSteering"/> for the path the stream takes.
/// </summary>
internal sealed class NetworkProbes(IOvsSwitch? ovs, ProbeOptions options, string? networkNamespace, TimeProvider time, ILogger<NetworkProbes> logger) : INetworkProbes
{
    public async Task SteerToIncomingGuestAsync(string migrationId, string guest, IReadOnlyList<string> ports, CancellationToken cancellationToken)
    {
        var (switchHere, fabric) = await JoinFabricAsync(guest, ports, cancellationToken);
        var generator = ProbeSteering.StreamFor(migrationId).Source;
        await switchHere.SteerAsync(ProbeSteering.GuestCookie(guest), ProbeSteering.Target(generator, ports[0], ports[1], fabric), cancellationToken);
    }

    public async Task<ProbeRun> StartAsync(string migrationId, string guest, IReadOnlyList<string> ports, int framesPerSecond, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(framesPerSecond);
        var (switchHere, fabric) = await JoinFabricAsync(guest, ports, cancellationToken);
        var run = new ProbeRun(switchHere, options, time, logger, migrationId, framesPerSecond);
        try
        {
            await run.StartAsync(ports[0], ports[1], fabric, networkNamespace, cancellationToken);
            return run;
        }
        catch (Exception ex) when (ex is OvsCommandException or System.Net.Sockets.SocketException or IOException)
        {
            await run.DisposeAsync();
            throw new ProbeUnavailableException($"The probe could not start on this host: {ex.Message}", ex);
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    /// <summary>The switch with the fabric port on it and stray probe frames from it dropped; idempotent, and cheap enough to do before each migration.</summary>
    private async Task<(IOvsSwitch Switch, string Fabric)> JoinFabricAsync(string guest, IReadOnlyList<string> ports, CancellationToken cancellationToken)
    {
        if (ports.Count < 2)
        {
            throw new ProbeUnavailableException($"A probe needs a guest with two vhost-user ports (frames in at the first, out at the second); '{guest}' has {ports.Count}.");
        }

        if (ovs is null)
        {
            throw new ProbeUnavailableException("A probe needs the host's OVS-DPDK switch, and this agent runs none (Ferry:Ovs:Enabled is false).");
        }

        if (options.FabricPort.Length == 0)
        {
            throw new ProbeUnavailableException("A probe needs a fabric joining this host's bridge to the other hosts' (Ferry:Probe:FabricPort), and none is configured: the stream could not follow the guest.");
        }

        try
        {
            await ovs.EnsureStartedAsync(cancellationToken);
            await ovs.AddSystemPortAsync(options.FabricPort, cancellationToken);
            await ovs.SteerAsync(ProbeSteering.FabricCookie, [ProbeSteering.StrayFromFabric(options.FabricPort)], cancellationToken);
        }
        catch (OvsCommandException ex)
        {
            throw new ProbeUnavailableException($"The fabric port {options.FabricPort} could not join the bridge: {ex.Message}", ex);
        }

        return (ovs, options.FabricPort);
    }
}
