using Ferry.Domain.Migrations;

namespace Ferry.Agent.Migration.Transports;

/// <summary>What a transport measured (definitions in docs/architecture.md, "Measurements"); times in milliseconds.</summary>
public sealed record MigrationMeasurements
{
    public required TransportKind Transport { get; init; }

    /// <summary>Why this transport, and for native which tracker ran or why the copy was paused.</summary>
    public required string TransportReason { get; init; }

    public double TotalTimeMs { get; init; }

    /// <summary>Guest paused → guest running at the target.</summary>
    public double DowntimeMs { get; init; }

    public double SetupTimeMs { get; init; }

    public long BytesTransferred { get; init; }

    public long ZeroPages { get; init; }

    public long NormalPages { get; init; }

    public int Passes { get; init; }

    public double DirtyPagesPerSecond { get; init; }

    public double ThroughputMbps { get; init; }

    /// <summary>When the source paused the guest for the switch-over, on the source's clock.</summary>
    public DateTimeOffset? PausedAt { get; init; }

    /// <summary>The native transport's downtime in its steps; null for QEMU's loop, which does not say.</summary>
    public DowntimeParts? DowntimeParts { get; init; }

    /// <summary>What the native transport's RAM check found, when it ran one (Ferry:Native:VerifyRam).</summary>
    public string? RamCheck { get; init; }

    /// <summary>The deferred source cleanup, after the guest ran at the target: outside the downtime.</summary>
    public double CleanupTimeMs { get; init; }
}
