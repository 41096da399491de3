namespace Ferry.Api.Reports;

/// <summary>How finished migrations fared against their SLA, overall and per source→target host pair.</summary>
/// <param name="From">Start of the range (created at, inclusive); null for no bound.</param>
/// <param name="To">End of the range (exclusive); null for no bound.</param>
/// <param name="Host">The host filter, when given.</param>
/// <param name="Overall">All migrations in range.</param>
/// <param name="Pairs">Per source→target pair, busiest first.</param>
public sealed record SlaReport(DateTimeOffset? From, DateTimeOffset? To, string? Host, SlaFigures Overall, IReadOnlyList<SlaFigures> Pairs);

/// <summary>Figures for a set of finished migrations.</summary>
/// <param name="SourceHost">Source host of the pair; null for the overall figures.</param>
/// <param name="TargetHost">Target host of the pair; null for the overall figures.</param>
/// <param name="Count">Finished migrations: completed, failed and cancelled.</param>
/// <param name="Completed">Completed.</param>
/// <param name="Failed">Failed.</param>
/// <param name="Cancelled">Cancelled (a client's choice: neither success nor failure).</param>
/// <param name="SuccessRate">Completed / (completed + failed); null when there were none.</param>
/// <param name="SlaMetFraction">Completed within the policy's limits / (completed + failed): a failure never meets the SLA.</param>
/// <param name="DowntimeMs">Percentiles of the downtime of completed migrations (the network figure where measured).</param>
/// <param name="TotalTimeMs">Percentiles of the total time of completed migrations.</param>
public sealed record SlaFigures(string? SourceHost, string? TargetHost, long Count, long Completed, long Failed, long Cancelled,
    double? SuccessRate, double? SlaMetFraction, Percentiles DowntimeMs, Percentiles TotalTimeMs);

/// <summary>Continuous percentiles (interpolated); null when there is no completed migration.</summary>
public sealed record Percentiles(double? P50, double? P95, double? P99);
