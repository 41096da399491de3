using Ferry.Domain.Migrations;

namespace Ferry.Agent.Migration.Transports;

/// <summary>What a transport measured (definitions in docs/architecture.md, "Measurements"); times in milliseconds.</summary>
public sealed record MigrationMeasurements
{
    public required TransportKind Transport { get; init; }

    /// <summary>Why this transport, and for native which tracker ran or why the copy was paused.</summary>
    public required string TransportReason { get; init; }

    /// <summary>The migration's start at the source → its end there (QEMU's <c>total-time</c>, or the engine's own clock).</summary>
    public double TotalTimeMs { get; init; }

    /// <summary>Guest paused → guest running at the target.</summary>
    public double DowntimeMs { get; init; }

    /// <summary>Before the first page moved: the transport's connection and capabilities (QEMU's <c>setup-time</c>).</summary>
    public double SetupTimeMs { get; init; }

    /// <summary>What crossed the migration link, as the transport counted it.</summary>
    public PageTransfer Pages { get; init; } = PageTransfer.None;

    /// <summary>When the source paused the guest for the switch-over, on the source's clock.</summary>
    public DateTimeOffset? PausedAt { get; init; }

    /// <summary>The native transport's downtime in its steps; null for QEMU's loop, which does not say.</summary>
    public DowntimeParts? DowntimeParts { get; init; }

    /// <summary>What the native transport's RAM check found, when it ran one (Ferry:Native:VerifyRam).</summary>
    public string? RamCheck { get; init; }

    /// <summary>The deferred source cleanup, after the guest ran at the target: outside the downtime.</summary>
    public double CleanupTimeMs { get; init; }
}

/// <summary>What a transport put on the migration link, as it counted it.</summary>
/// <param name="BytesTransferred">Bytes sent over the link.</param>
/// <param name="ZeroPages">Pages found zero and sent without their data.</param>
/// <param name="NormalPages">Pages sent with their data.</param>
/// <param name="Passes">Passes over memory, the first included (QEMU's <c>dirty-sync-count</c>).</param>
/// <param name="DirtyPagesPerSecond">The guest's dirty rate in the last pass, pages per second.</param>
/// <param name="ThroughputMbps">What the link carried on average, Mbit/s (QEMU's <c>mbps</c>, or bytes over the engine's copy time).</param>
public sealed record PageTransfer(long BytesTransferred, long ZeroPages, long NormalPages, int Passes, double DirtyPagesPerSecond, double ThroughputMbps)
{
    /// <summary>Nothing counted (a migration that failed before QEMU said anything).</summary>
    public static readonly PageTransfer None = new(0, 0, 0, 0, 0, 0);
}
