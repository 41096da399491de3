namespace Ferry.Agent.Probe;

/// <summary>
/// The network probe the source agent runs through a migrating guest when the policy asks for one
/// (section <c>Ferry:Probe</c>).
/// </summary>
public sealed record ProbeOptions
{
    public const string Section = "Ferry:Probe";

    /// <summary>
    /// The interface that joins this host's OVS-DPDK bridge to the other hosts' (a veth end, a tunnel
    /// port), in the switch's network namespace; empty when there is none, and then a migration that asks
    /// for a probe is refused: a stream that cannot follow the guest measures nothing.
    /// </summary>
    public string FabricPort { get; init; } = "";

    /// <summary>How long the stream may take to first come back through the guest before the migration starts anyway.</summary>
    public TimeSpan WarmupTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long after the guest runs at its destination the stream may take to come back before it counts as not resumed.</summary>
    public TimeSpan ResumeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the generator keeps sending once the stream resumed: the steady flow after the gap.</summary>
    public TimeSpan Tail { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long the sink waits for frames in flight after the generator stopped.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromMilliseconds(500);
}
