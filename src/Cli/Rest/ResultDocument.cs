namespace Ferry.Cli.Rest;

/// <summary>A finished migration's measurements and SLA verdict, as the API returns them.</summary>
internal sealed record ResultDocument(string Transport, double TotalTimeMs, double DowntimeMs, double? NetworkDowntimeMs,
    double SetupTimeMs, double OperationTimeMs, long BytesTransferred, long ZeroPages, long NormalPages, int Passes,
    double DirtyPagesPerSecond, double ThroughputMbps, bool SlaMet, double? CleanupTimeMs, string? TransportReason,
    long? FramesSent, long? FramesLost, double? PacketRatePps, double? AnnounceMs, string? ProbeNote, string? RamCheck);
