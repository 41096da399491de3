namespace Ferry.Cli.Rest;

/// <summary>A migration's policy as the API returns it, defaults filled in.</summary>
internal sealed record PolicyDocument(double MaxDowntimeMs, double MaxTotalTimeMs, string Transport, int? BandwidthMbps, int? ProbeRatePps);
