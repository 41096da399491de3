namespace Ferry.Cli.Rest;

/// <summary>SLA figures of a set of finished migrations: all of them, or one source→target pair.</summary>
internal sealed record SlaFiguresDocument(string? SourceHost, string? TargetHost, long Count, long Completed, long Failed, long Cancelled,
    double? SuccessRate, double? SlaMetFraction, PercentilesDocument DowntimeMs, PercentilesDocument TotalTimeMs);
