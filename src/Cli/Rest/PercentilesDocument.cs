namespace Ferry.Cli.Rest;

/// <summary>p50, p95 and p99 of a measurement; null when no migration completed.</summary>
internal sealed record PercentilesDocument(double? P50, double? P95, double? P99);
