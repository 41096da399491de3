namespace Ferry.Domain.Migrations;

/// <summary>What a migration must achieve and the limits it runs under.</summary>
public sealed record MigrationPolicy
{
    /// <summary>The origin requirement: at most 10 ms frozen.</summary>
    public const double DefaultMaxDowntimeMs = 10;

    /// <summary>The origin requirement: done within 2 s.</summary>
    public const double DefaultMaxTotalTimeMs = 2000;

    /// <summary>The policy used when a request gives none.</summary>
    public static MigrationPolicy Default { get; } = new();

    /// <summary>Downtime budget, ms; also the downtime limit handed to the transport.</summary>
    public double MaxDowntimeMs { get; init; } = DefaultMaxDowntimeMs;

    /// <summary>Total-time objective, ms; judged by the SLA verdict, not enforced as a timeout.</summary>
    public double MaxTotalTimeMs { get; init; } = DefaultMaxTotalTimeMs;

    /// <summary>Which transport moves memory.</summary>
    public TransportKind Transport { get; init; } = TransportKind.Auto;

    /// <summary>Bandwidth cap, Mbit/s; null for none.</summary>
    public int? BandwidthMbps { get; init; }

    /// <summary>TCP streams carrying pages (multifd channels for QEMU).</summary>
    public int ParallelStreams { get; init; } = 1;

    /// <summary>A migration is failed when it has not completed within this many seconds per GiB of guest RAM (at least one GiB's worth).</summary>
    public int CompletionTimeoutSecondsPerGiB { get; init; } = 30;

    /// <summary>A migration is failed when no progress has been reported for this long.</summary>
    public int ProgressTimeoutSeconds { get; init; } = 15;

    /// <summary>Whether the transport may throttle guest vCPUs to converge. Off: it slows VNFs down.</summary>
    public bool AllowAutoConverge { get; init; }

    /// <summary>Scheduling priority, 0–100; higher runs first.</summary>
    public int Priority { get; init; } = 50;

    /// <summary>The most frames per second a probe may be asked for: beyond it the generator, not the guest, is measured.</summary>
    public const int MaxProbeRatePps = 1_000_000;

    /// <summary>
    /// Frames per second of the network probe the source agent runs through the guest while it migrates
    /// (in at its first vhost-user port, out at its second), which measures the network downtime; null for none.
    /// </summary>
    public int? ProbeRatePps { get; init; }

    /// <summary>How long the whole migration may take for a guest of <paramref name="memoryMiB"/>.</summary>
    public TimeSpan CompletionTimeout(int memoryMiB) =>
        TimeSpan.FromSeconds(CompletionTimeoutSecondsPerGiB * Math.Max(1.0, memoryMiB / 1024.0));

    /// <summary>Every rule this policy breaks, keyed by field name (camelCase, as in the API).</summary>
    public IReadOnlyDictionary<string, string> Validate()
    {
        var errors = new Dictionary<string, string>();
        if (!double.IsFinite(MaxDowntimeMs) || MaxDowntimeMs is <= 0 or > 60_000)
        {
            errors["maxDowntimeMs"] = "must be greater than 0 and at most 60000";
        }

        if (!double.IsFinite(MaxTotalTimeMs) || MaxTotalTimeMs is <= 0 or > 86_400_000)
        {
            errors["maxTotalTimeMs"] = "must be greater than 0 and at most 86400000";
        }

        if (!Enum.IsDefined(Transport))
        {
            errors["transport"] = "must be auto, qemu or native";
        }

        if (BandwidthMbps is <= 0 or > 10_000_000)
        {
            errors["bandwidthMbps"] = "must be 1..10000000 or absent for no limit";
        }

        if (ParallelStreams is < 1 or > 64)
        {
            errors["parallelStreams"] = "must be 1..64";
        }

        if (CompletionTimeoutSecondsPerGiB is < 1 or > 3600)
        {
            errors["completionTimeoutSecondsPerGiB"] = "must be 1..3600";
        }

        if (ProgressTimeoutSeconds is < 1 or > 3600)
        {
            errors["progressTimeoutSeconds"] = "must be 1..3600";
        }

        if (Priority is < 0 or > 100)
        {
            errors["priority"] = "must be 0..100";
        }

        if (ProbeRatePps is < 1 or > MaxProbeRatePps)
        {
            errors["probeRatePps"] = $"must be 1..{MaxProbeRatePps} frames per second, or absent for no probe";
        }

        return errors;
    }
}
