namespace Ferry.Transfer.Migration;

/// <summary>
/// The outcome and the measurements of one native migration, as docs/architecture.md defines them: the engine's
/// own result; the agent reports it as its <c>MigrationMeasurements</c>, which the API records as the Domain's <c>MigrationResult</c>.
/// </summary>
public sealed record EngineResult
{
    /// <summary>True when the guest runs at the destination.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>Why it failed; null on success.</summary>
    public string? FailureReason { get; init; }

    /// <summary>True when the guest was left (or put back) running on the source.</summary>
    public required bool SourceRunning { get; init; }

    /// <summary>Start → guest running at the destination.</summary>
    public TimeSpan TotalTime { get; init; }

    /// <summary>Guest paused → the destination's running acknowledgement.</summary>
    public TimeSpan Downtime { get; init; }

    /// <summary>Connecting and authenticating all streams.</summary>
    public TimeSpan SetupTime { get; init; }

    /// <summary>Deferred cleanup (tracker, connections, source guest and RAM), after the downtime.</summary>
    public TimeSpan CleanupTime { get; init; }

    /// <summary>Passes, the final one included.</summary>
    public int Passes { get; init; }

    /// <summary>Pages sent with contents over all passes.</summary>
    public long PagesSent { get; init; }

    /// <summary>Pages sent as zero ranges (scanned or skipped).</summary>
    public long ZeroPages { get; init; }

    /// <summary>Bytes on the wire.</summary>
    public long BytesSent { get; init; }

    /// <summary>Pages sent in the final (stop-and-copy) pass.</summary>
    public long FinalPassPages { get; init; }

    /// <summary>Last measured dirty rate in bytes per second.</summary>
    public double DirtyRate { get; init; }

    /// <summary>Last measured throughput in bytes per second.</summary>
    public double Bandwidth { get; init; }

    /// <summary>The downtime split into its steps; null when the migration never paused the guest.</summary>
    public SwitchoverTimings? Switchover { get; init; }

    /// <summary>What the RAM check found, when <see cref="MigrationOptions.VerifyRam"/> asked for one.</summary>
    public RamCheck? RamCheck { get; init; }

    /// <summary>Per-pass figures.</summary>
    public IReadOnlyList<PassReport> PassReports { get; init; } = [];
}
