using Ferry.Domain.Migrations;

namespace Ferry.Api.Migrations;

/// <summary>
/// A migration's measurements with its SLA verdict. <c>framesCorrupt</c> counts probe frames that came back
/// garbled; <c>switchover</c> takes the switch-over apart; <c>ramCheck</c> is the native transport's proof
/// that the target got every page, when the agent ran it.
/// </summary>
public sealed record ResultView(TransportKind Transport, double TotalTimeMs, double DowntimeMs, double? NetworkDowntimeMs,
    double SetupTimeMs, double OperationTimeMs, long BytesTransferred, long ZeroPages, long NormalPages, int Passes,
    double DirtyPagesPerSecond, double ThroughputMbps, bool SlaMet, double? CleanupTimeMs, string? TransportReason,
    long? FramesSent, long? FramesLost, double? PacketRatePps, double? AnnounceMs, string? ProbeNote,
    long? FramesCorrupt, SwitchoverParts? Switchover, string? RamCheck)
{
    internal static ResultView From(MigrationResult r, bool slaMet) => new(r.Transport, r.TotalTimeMs, r.DowntimeMs, r.NetworkDowntimeMs,
        r.SetupTimeMs, r.OperationTimeMs, r.BytesTransferred, r.ZeroPages, r.NormalPages, r.Passes, r.DirtyPagesPerSecond,
        r.ThroughputMbps, slaMet, r.CleanupTimeMs, r.TransportReason, r.FramesSent, r.FramesLost, r.PacketRatePps, r.AnnounceMs, r.ProbeNote,
        r.FramesCorrupt, r.Switchover, r.RamCheck);
}
