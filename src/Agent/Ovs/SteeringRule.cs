using System.Net.NetworkInformation;

namespace Ferry.Agent.Ovs;

/// <summary>
/// One OpenFlow rule of <see cref="IOvsSwitch.SteerAsync(ulong, IReadOnlyList{SteeringRule}, CancellationToken)"/>:
/// frames entering on <see cref="FromPort"/> (optionally only those from <see cref="FromAddress"/> or of
/// <see cref="EtherType"/>) leave by <see cref="ToPorts"/> alone; no port drops them. A narrower match takes
/// precedence over a wider one on the same port; a <see cref="Fallback"/> rule yields to every other.
/// </summary>
public sealed record SteeringRule(string FromPort, IReadOnlyList<string> ToPorts, PhysicalAddress? FromAddress = null, ushort? EtherType = null)
{
    /// <summary>Below every ordinary rule: what nothing more specific claimed, e.g. stray probe frames from the fabric.</summary>
    public bool Fallback { get; init; }

    /// <summary>Frames entering on <paramref name="port"/> are dropped.</summary>
    public static SteeringRule Drop(string port) => new(port, []);
}
