using Ferry.Domain.Migrations;

namespace Ferry.Api.Migrations;

/// <summary>A policy as a client writes it: every field optional, defaults filled in.</summary>
public sealed record PolicyInput(double? MaxDowntimeMs, double? MaxTotalTimeMs, TransportKind? Transport, int? BandwidthMbps,
    int? ParallelStreams, int? CompletionTimeoutSecondsPerGiB, int? ProgressTimeoutSeconds, bool? AllowAutoConverge, int? Priority,
    int? ProbeRatePps = null)
{
    internal MigrationPolicy ToPolicy()
    {
        var d = MigrationPolicy.Default;
        return new MigrationPolicy
        {
            MaxDowntimeMs = MaxDowntimeMs ?? d.MaxDowntimeMs,
            MaxTotalTimeMs = MaxTotalTimeMs ?? d.MaxTotalTimeMs,
            Transport = Transport ?? d.Transport,
            BandwidthMbps = BandwidthMbps ?? d.BandwidthMbps,
            ParallelStreams = ParallelStreams ?? d.ParallelStreams,
            CompletionTimeoutSecondsPerGiB = CompletionTimeoutSecondsPerGiB ?? d.CompletionTimeoutSecondsPerGiB,
            ProgressTimeoutSeconds = ProgressTimeoutSeconds ?? d.ProgressTimeoutSeconds,
            AllowAutoConverge = AllowAutoConverge ?? d.AllowAutoConverge,
            Priority = Priority ?? d.Priority,
            ProbeRatePps = ProbeRatePps ?? d.ProbeRatePps,
        };
    }
}
