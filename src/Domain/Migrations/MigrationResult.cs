namespace Ferry.Domain.Migrations;

/// <summary>What a finished migration measured. Definitions are in docs/architecture.md, "Measurements".</summary>
public sealed record MigrationResult
{
    /// <summary>The transport that ran.</summary>
    public TransportKind Transport { get; init; }

    /// <summary>Migration start → guest running at the destination, ms.</summary>
    public double TotalTimeMs { get; init; }

    /// <summary>Guest paused → guest running at the destination, as the hypervisor or engine measured it, ms.</summary>
    public double DowntimeMs { get; init; }

    /// <summary>The gap in forwarded traffic across the switch-over, ms, when a probe measured it.</summary>
    public double? NetworkDowntimeMs { get; init; }

    /// <summary>Frames the network probe sent through the guest, when the policy asked for a probe.</summary>
    public long? FramesSent { get; init; }

    /// <summary>Frames the probe sent that never came back through the guest.</summary>
    public long? FramesLost { get; init; }

    /// <summary>Frames the probe got back with a payload other than the one they were sent with.</summary>
    public long? FramesCorrupt { get; init; }

    /// <summary>The rate frames came back through the guest at, frames per second: what the probe really carried.</summary>
    public double? PacketRatePps { get; init; }

    /// <summary>Guest paused → the first announcement (RARP) of its new location reached the probe's sink, ms: when a learning fabric would converge.</summary>
    public double? AnnounceMs { get; init; }

    /// <summary>Why the probe measured no network downtime although one was asked for.</summary>
    public string? ProbeNote { get; init; }

    /// <summary>Time spent before the first page moved, ms.</summary>
    public double SetupTimeMs { get; init; }

    /// <summary>API request → completed, ms: what an orchestrator waits for.</summary>
    public double OperationTimeMs { get; init; }

    /// <summary>Bytes sent over the migration link.</summary>
    public long BytesTransferred { get; init; }

    /// <summary>Pages found to be zero (sent as ranges or markers, not data).</summary>
    public long ZeroPages { get; init; }

    /// <summary>Pages sent with their data.</summary>
    public long NormalPages { get; init; }

    /// <summary>Memory passes, the first included.</summary>
    public int Passes { get; init; }

    /// <summary>Dirty rate measured during the last pass, pages per second.</summary>
    public double DirtyPagesPerSecond { get; init; }

    /// <summary>Average migration throughput, Mbit/s.</summary>
    public double ThroughputMbps { get; init; }

    /// <summary>Source teardown after switch-over, ms: outside downtime, reported to show it.</summary>
    public double? CleanupTimeMs { get; init; }

    /// <summary>The switch-over taken apart, where the agents measured it.</summary>
    public SwitchoverParts? Switchover { get; init; }

    /// <summary>The native transport's check that the target got the last version of every page, when the agent ran one.</summary>
    public string? RamCheck { get; init; }

    /// <summary>Why this transport was picked, e.g. "auto: no dirty tracker for this guest".</summary>
    public string? TransportReason { get; init; }

    /// <summary>The downtime the SLA is judged on: the wire's figure when measured, else the hypervisor's.</summary>
    public double EffectiveDowntimeMs => NetworkDowntimeMs ?? DowntimeMs;

    /// <summary>Whether this result meets <paramref name="policy"/>: total and downtime strictly under their maxima.</summary>
    public bool MeetsSla(MigrationPolicy policy) =>
        TotalTimeMs < policy.MaxTotalTimeMs && EffectiveDowntimeMs < policy.MaxDowntimeMs;
}
