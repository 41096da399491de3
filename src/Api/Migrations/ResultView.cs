using Ferry.Domain.Migrations;

namespace Ferry.Api.Migrations;

/// <summary>A migration's measurements with its SLA verdict.</summary>
public sealed record ResultView(TransportKind Transport, double TotalTimeMs, double DowntimeMs, double? NetworkDowntimeMs,
    double SetupTimeMs, double OperationTimeMs, long BytesTransferred, long ZeroPages, long NormalPages, int Passes,
    double DirtyPagesPerSecond, double ThroughputMbps, bool SlaMet, double? CleanupTimeMs, string? TransportReason,
    long? FramesSent, long? FramesLost, double? PacketRatePps, double? AnnounceMs, string? ProbeNote)
{
    internal static ResultView From(MigrationResult r, bool slaMet) => new(r.Transport, r.TotalTimeMs, r.DowntimeMs, r.NetworkDowntimeMs,
        r.SetupTimeMs, r.OperationTimeMs, r.BytesTransferred, r.ZeroPages, r.NormalPages, r.Passes, r.DirtyPagesPerSecond,
        r.ThroughputMbps, slaMet, r.CleanupTimeMs, r.TransportReason, r.FramesSent, r.FramesLost, r.PacketRatePps, r.AnnounceMs, r.ProbeNote);
}
