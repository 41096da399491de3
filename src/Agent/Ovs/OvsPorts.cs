using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Ovs;

/// <summary>
/// The bridge and the ports on it: creating the bridge (with the mempool keeper on a switch the agent
/// runs), adding vhost-user and kernel ports and reading each back, removing and listing them, reading
/// an interface's status and statistics and its OpenFlow number. Port names come validated
/// (<see cref="OvsName"/>) from <see cref="OvsSwitch"/>, which also serialises the calls.
/// </summary>
internal sealed partial class OvsPorts(OvsOptions options, OvsCtl ctl, string bridge, ILogger logger)
{
    /// <summary>
    /// A DPDK port on the null driver that receives nothing and drops what it is sent; it exists only to
    /// hold OVS's shared packet mempool. Without it OVS creates the mempool when the first guest NIC on the
    /// switch comes up and frees it when the last one goes: 0.7 s of creation measured here, inside every
    /// migration's network gap, racing the vhost device's own allocations for DPDK's heap ("failed to
    /// allocate memory for vq internal data"). With it the mempool is made once, when the switch starts,
    /// and a guest NIC coming up reuses it (its rx queue is polled 1–3 ms after the device is added).
    /// </summary>
    public const string MempoolKeeperPort = "ferry-mempool";

    /// <summary>
    /// Creates the bridge (or keeps it) and checks that ovs-vswitchd opened its datapath. For a switch the
    /// agent runs, <paramref name="ownVswitchd"/> is its ovs-vswitchd: its log explains a bridge it could
    /// not create, and the bridge gets <see cref="MempoolKeeperPort"/> when the options ask for it. Null for the host's OVS.
    /// </summary>
    public async Task EnsureBridgeAsync(OvsDaemon? ownVswitchd, CancellationToken cancellationToken)
    {
        await ctl.VsctlAsync(["--may-exist", "add-br", bridge, "--", "set", "Bridge", bridge, "datapath_type=netdev"], cancellationToken);

        // ovs-vsctl succeeds even when ovs-vswitchd could not open the datapath; the bridge's own
        // interface only gets the LOCAL port number when it did.
        var lines = OvsCtl.Lines(await ctl.VsctlAsync(["--no-wait", "get", "Interface", bridge, "ofport", "error"], cancellationToken));
        if (lines is not ["65534", "[]"])
        {
            throw new OvsCommandException(
                $"OVS did not create bridge {bridge} ({string.Join(", ", lines)}). The userspace datapath needs the tap device " +
                $"'ovs-netdev', of which a network namespace has one: is another OVS-DPDK switch running in this namespace? " +
                (ownVswitchd?.ReadLogTail(800) ?? string.Empty));
        }

        if (ownVswitchd is not null && options.MempoolKeeper)
        {
            await EnsureMempoolKeeperAsync(cancellationToken);
        }

        Log.BridgeReady(logger, bridge);
    }

    /// <summary>Adds (or keeps) a dpdkvhostuser or dpdkvhostuserclient port whose socket is <paramref name="socket"/>, and reads back its OpenFlow number.</summary>
    public async Task<VhostUserPort> AddVhostUserPortAsync(string name, VhostUserMode mode, string socket, CancellationToken cancellationToken)
    {
        List<string> arguments = ["--may-exist", "add-port", bridge, name, "--", "set", "Interface", name];
        if (mode == VhostUserMode.OvsServer)
        {
            arguments.AddRange(["type=dpdkvhostuser", "--", "remove", "Interface", name, "options", "vhost-server-path"]);
        }
        else
        {
            arguments.AddRange(["type=dpdkvhostuserclient", $"options:vhost-server-path={OvsCtl.Quote(socket)}"]);
        }

        await ctl.VsctlAsync(arguments, cancellationToken);
        var (ofport, error) = await ReadOpenFlowPortAndErrorAsync(name, cancellationToken);
        if (ofport <= 0 || error is not null)
        {
            throw new OvsCommandException($"OVS did not accept vhost-user port {name} (ofport {ofport}): {error ?? "no error given"}");
        }

        Log.PortAdded(logger, name, bridge, mode, socket, ofport);
        return new VhostUserPort(name, socket, mode, ofport);
    }

    /// <summary>Adds (or keeps) a port of a kernel device (<c>type=internal</c>, <c>type=system</c>) and returns its OpenFlow number.</summary>
    public async Task<int> AddKernelPortAsync(string name, IReadOnlyList<string> settings, CancellationToken cancellationToken)
    {
        await ctl.VsctlAsync(["--may-exist", "add-port", bridge, name, "--", "set", "Interface", name, .. settings], cancellationToken);
        var (ofport, error) = await ReadOpenFlowPortAndErrorAsync(name, cancellationToken);
        if (ofport <= 0 || error is not null)
        {
            // A refused port stays in the database with ofport -1; it must not be mistaken for one later.
            await ctl.VsctlAsync(["--if-exists", "del-port", bridge, name], cancellationToken);
            throw new OvsCommandException($"OVS did not accept port {name} ({string.Join(' ', settings)}, ofport {ofport}): {error ?? "no error given"}");
        }

        Log.KernelPortAdded(logger, name, bridge, string.Join(' ', settings), ofport);
        return ofport;
    }

    /// <summary>Sets an internal port's tap device up, in ovs-vswitchd's network namespace: OVS creates it down, and a probe's frames only cross an interface that is up.</summary>
    public async Task BringUpAsync(string name, CancellationToken cancellationToken)
    {
        var namespaceArguments = options.NetworkNamespace.Length == 0 ? Array.Empty<string>() : ["-n", options.NetworkNamespace];
        var result = await ctl.RunAsync("ip", [.. namespaceArguments, "link", "set", "dev", name, "up"], cancellationToken);
        if (!result.Succeeded)
        {
            throw new OvsCommandException($"Internal port {name} could not be brought up: {result.Error.Trim()}");
        }
    }

    public async Task RemoveAsync(string name, CancellationToken cancellationToken)
    {
        await ctl.VsctlAsync(["--if-exists", "del-port", bridge, name], cancellationToken);
        Log.PortRemoved(logger, name, bridge);
    }

    /// <summary>The bridge's ports, without <see cref="MempoolKeeperPort"/>, which is the switch's own.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken)
    {
        var output = await ctl.VsctlAsync(["--no-wait", "list-ports", bridge], cancellationToken);
        return OvsCtl.Lines(output).Where(p => p != MempoolKeeperPort).ToList();
    }

    /// <summary>One map column of an interface (<c>status</c>, <c>statistics</c>) as keys and values.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ReadInterfaceMapAsync(string name, string column, CancellationToken cancellationToken)
    {
        var output = (await ctl.VsctlAsync(["--no-wait", "get", "Interface", name, column], cancellationToken)).Trim();
        return OvsCtl.ParseMap(output);
    }

    /// <summary>The port's OpenFlow number; an <see cref="OvsCommandException"/> when it is not on the bridge or has none.</summary>
    public async Task<int> OpenFlowPortAsync(string name, CancellationToken cancellationToken)
    {
        var result = await ctl.RunVsctlAsync(["--no-wait", "get", "Interface", name, "ofport"], cancellationToken);
        if (!result.Succeeded || !int.TryParse(result.Output.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ofport) || ofport <= 0)
        {
            throw new OvsCommandException($"Port {name} is not on bridge {bridge} with an OpenFlow number: {(result.Error.Trim().Length > 0 ? result.Error.Trim() : result.Output.Trim())}");
        }

        return ofport;
    }

    /// <summary>Adds (or keeps) <see cref="MempoolKeeperPort"/>; its first start is when OVS creates the mempool.</summary>
    private async Task EnsureMempoolKeeperAsync(CancellationToken cancellationToken)
    {
        await ctl.VsctlAsync(
            ["--may-exist", "add-port", bridge, MempoolKeeperPort, "--", "set", "Interface", MempoolKeeperPort, "type=dpdk", "options:dpdk-devargs=net_null0,no-rx=1"],
            cancellationToken);
        var lines = OvsCtl.Lines(await ctl.VsctlAsync(["--no-wait", "get", "Interface", MempoolKeeperPort, "ofport", "error"], cancellationToken));
        if (lines is not [var ofport, "[]"] || !int.TryParse(ofport, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            throw new OvsCommandException(
                $"OVS could not add {MempoolKeeperPort}, the null-driver port that keeps its packet mempool ({string.Join(", ", lines)}); " +
                "is DPDK's null driver installed (Debian package librte-net-null23, from scripts/install-deps.sh)? Ferry:Ovs:MempoolKeeper=false runs without it, " +
                "at the cost of creating the mempool inside migrations' network gaps.");
        }
    }

    /// <summary>A port's OpenFlow number (-1 when OVS gave none) and its error column (null when empty), read back after adding it.</summary>
    private async Task<(int OpenFlowPort, string? Error)> ReadOpenFlowPortAndErrorAsync(string name, CancellationToken cancellationToken)
    {
        var lines = OvsCtl.Lines(await ctl.VsctlAsync(["--no-wait", "get", "Interface", name, "ofport", "error"], cancellationToken));
        var ofport = lines.Length > 0 && int.TryParse(lines[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : -1;
        var error = lines.Length > 1 && lines[1] != "[]" ? lines[1] : null;
        return (ofport, error);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.OvsBridgeReady, Level = LogLevel.Information, Message = "Bridge {Bridge} ready (datapath_type=netdev)")]
        public static partial void BridgeReady(ILogger logger, string bridge);

        [LoggerMessage(EventId = AgentEventIds.OvsPortAdded, Level = LogLevel.Information, Message = "Port {Port} on {Bridge} ({Mode}, socket {Socket}, ofport {OpenFlowPort})")]
        public static partial void PortAdded(ILogger logger, string port, string bridge, VhostUserMode mode, string socket, int openFlowPort);

        [LoggerMessage(EventId = AgentEventIds.OvsPortRemoved, Level = LogLevel.Information, Message = "Port {Port} removed from {Bridge}")]
        public static partial void PortRemoved(ILogger logger, string port, string bridge);

        [LoggerMessage(EventId = AgentEventIds.OvsKernelPortAdded, Level = LogLevel.Information, Message = "Port {Port} on {Bridge} ({Settings}, ofport {OpenFlowPort})")]
        public static partial void KernelPortAdded(ILogger logger, string port, string bridge, string settings, int openFlowPort);
    }
}
