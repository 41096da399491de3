namespace Ferry.Agent.Migration;

/// <summary>How one qemu-transport migration is tuned and bounded (from the migration policy).</summary>
public sealed record MigrationSettings
{
    /// <summary>QEMU 7.2 throttles to 128 MiB/s unless told otherwise; this is "as fast as the link goes".</summary>
    public const long Unlimited = 100L * 1000 * 1000 * 1000;

    /// <summary>Longest pause QEMU may plan for the final stop-and-copy.</summary>
    public TimeSpan DowntimeLimit { get; init; } = TimeSpan.FromMilliseconds(300);

    public long MaxBandwidthBytesPerSecond { get; init; } = Unlimited;

    /// <summary>More than one turns on multifd with this many channels (on both sides).</summary>
    public int ParallelStreams { get; init; } = 1;

    /// <summary>Auto-converge slows the guest's vCPUs down; only when the policy allows it.</summary>
    public bool AllowAutoConverge { get; init; }

    /// <summary>The migration is cancelled when no byte moved for this long.</summary>
    public TimeSpan ProgressTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The migration is cancelled when it has not completed after this long.</summary>
    public TimeSpan CompletionTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How often <c>query-migrate</c> is polled between events.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Stops QEMU at the brink of switch-over (<c>pause-before-switchover</c>) and lets it finish only
    /// when the target still answers and waits for the guest. A target whose agent died would otherwise
    /// receive the guest with nobody to run it, and the source could no longer resume. Costs one call to
    /// the target inside the downtime (about a millisecond between agents on one network).
    /// </summary>
    public bool ConfirmTargetBeforeSwitchover { get; init; } = true;

    /// <summary>How often the target is asked, while pages move, whether it still waits for the guest.</summary>
    public TimeSpan TargetCheckInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The migration fails when the target has not answered for this long: a dead target agent leaves its QEMU receiving forever.</summary>
    public TimeSpan TargetLostTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the target may take to confirm at the brink of switch-over; the guest is paused meanwhile.</summary>
    public TimeSpan SwitchoverConfirmTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the target may take to report <c>running</c> after the source completed.</summary>
    public TimeSpan TargetResumeTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
