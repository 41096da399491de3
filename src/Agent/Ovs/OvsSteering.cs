using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Ovs;

/// <summary>
/// OpenFlow rules that steer the frames entering a port to other ports, above the bridge's own NORMAL
/// rule: set and removed with ovs-ofctl on the bridge's management socket. Rules name ports by their
/// OpenFlow numbers, read back from OVS through <see cref="OvsPorts"/>. Port names come validated
/// (<see cref="OvsName"/>) from <see cref="OvsSwitch"/>, which also serialises the calls.
/// </summary>
internal sealed partial class OvsSteering(OvsCtl ctl, OvsPorts ports, string bridge, ILogger logger)
{
    /// <summary>Above the bridge's own NORMAL rule (priority 0), below anything an operator adds by hand at the default 32768.</summary>
    private const int SteeringPriority = 1000;

    /// <summary>Steers every frame entering <paramref name="from"/> to <paramref name="to"/>, replacing what was set for it before.</summary>
    public async Task SteerAsync(string from, IReadOnlyList<string> to, CancellationToken cancellationToken)
    {
        var inPort = await ports.OpenFlowPortAsync(from, cancellationToken);
        var outPorts = new List<int>();
        foreach (var port in to)
        {
            outPorts.Add(await ports.OpenFlowPortAsync(port, cancellationToken));
        }

        // Numbers, not names, in the rule: all were read back from OVS for validated names.
        var actions = Actions(inPort, outPorts);
        var flow = string.Create(CultureInfo.InvariantCulture, $"priority={SteeringPriority},in_port={inPort},actions={actions}");
        await ctl.OfctlAsync(["add-flow", ManagementTarget, flow], cancellationToken);
        Log.Steered(logger, from, inPort, string.Join(", ", to), actions, bridge);
    }

    /// <summary>Removes the rule <see cref="SteerAsync(string, IReadOnlyList{string}, CancellationToken)"/> set for frames entering <paramref name="from"/>.</summary>
    public async Task ClearAsync(string from, CancellationToken cancellationToken)
    {
        var inPort = await ports.OpenFlowPortAsync(from, cancellationToken);
        var match = string.Create(CultureInfo.InvariantCulture, $"priority={SteeringPriority},in_port={inPort}");
        await ctl.OfctlAsync(["--strict", "del-flows", ManagementTarget, match], cancellationToken);
    }

    /// <summary>Adds one rule per <see cref="SteeringRule"/>, all under <paramref name="cookie"/> so that <see cref="RemoveAsync"/> takes them away together.</summary>
    public async Task SteerAsync(ulong cookie, IReadOnlyList<SteeringRule> rules, CancellationToken cancellationToken)
    {
        var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            var inPort = await CachedOpenFlowPortAsync(rule.FromPort, numbers, cancellationToken);
            var outPorts = new List<int>();
            foreach (var port in rule.ToPorts)
            {
                outPorts.Add(await CachedOpenFlowPortAsync(port, numbers, cancellationToken));
            }

            var flow = SteeringFlow(cookie, rule, inPort, outPorts);
            await ctl.OfctlAsync(["add-flow", ManagementTarget, flow], cancellationToken);
            Log.Steered(logger, rule.FromPort, inPort, string.Join(", ", rule.ToPorts), flow, bridge);
        }
    }

    /// <summary>Removes every rule set under <paramref name="cookie"/>.</summary>
    public Task RemoveAsync(ulong cookie, CancellationToken cancellationToken) =>
        ctl.OfctlAsync(["del-flows", ManagementTarget, string.Create(CultureInfo.InvariantCulture, $"cookie=0x{cookie:x}/-1")], cancellationToken);

    /// <summary>ovs-vswitchd's OpenFlow management socket of the bridge, beside its database socket.</summary>
    private string ManagementTarget => ctl.BesideDatabase(bridge + ".mgmt");

    /// <summary>
    /// The flow text of one rule: numbers, not names (all read back from OVS for validated names), and a MAC
    /// and EtherType only from typed values.
    /// </summary>
    private static string SteeringFlow(ulong cookie, SteeringRule rule, int inPort, IReadOnlyList<int> outPorts)
    {
        var priority = rule.Fallback ? SteeringPriority - 100 : SteeringPriority + (rule.FromAddress is null ? 0 : 2) + (rule.EtherType is null ? 0 : 1);
        var match = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"cookie=0x{cookie:x},priority={priority},in_port={inPort}"));
        if (rule.FromAddress is { } address)
        {
            match.Append(",dl_src=").Append(string.Join(':', address.GetAddressBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture))));
        }

        if (rule.EtherType is { } etherType)
        {
            match.Append(string.Create(CultureInfo.InvariantCulture, $",dl_type=0x{etherType:x4}"));
        }

        return match.Append(",actions=").Append(Actions(inPort, outPorts)).ToString();
    }

    /// <summary>
    /// Output to each port, by number. OpenFlow never sends a frame back out of its in_port, so steering a
    /// port to itself alone drops its frames: said as <c>drop</c>.
    /// </summary>
    private static string Actions(int inPort, IReadOnlyList<int> outPorts) =>
        outPorts.All(p => p == inPort) ? "drop" : string.Join(',', outPorts.Select(p => string.Create(CultureInfo.InvariantCulture, $"output:{p}")));

    private async Task<int> CachedOpenFlowPortAsync(string name, Dictionary<string, int> known, CancellationToken cancellationToken)
    {
        if (!known.TryGetValue(name, out var number))
        {
            number = await ports.OpenFlowPortAsync(name, cancellationToken);
            known[name] = number;
        }

        return number;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.OvsSteered, Level = LogLevel.Information, Message = "Frames entering {From} (ofport {FromPort}) are steered to {To} ({Actions}) on {Bridge}")]
        public static partial void Steered(ILogger logger, string from, int fromPort, string to, string actions, string bridge);
    }
}
