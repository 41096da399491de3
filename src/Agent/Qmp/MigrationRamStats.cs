using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>The <c>ram</c> member of <c>query-migrate</c> (QAPI <c>MigrationStats</c>).</summary>
public sealed record MigrationRamStats
{
    [JsonPropertyName("transferred")]
    public long Transferred { get; init; }

    [JsonPropertyName("remaining")]
    public long Remaining { get; init; }

    [JsonPropertyName("total")]
    public long Total { get; init; }

    /// <summary>Zero pages, sent as a flag instead of their contents.</summary>
    [JsonPropertyName("duplicate")]
    public long Duplicate { get; init; }

    [JsonPropertyName("normal")]
    public long Normal { get; init; }

    [JsonPropertyName("normal-bytes")]
    public long NormalBytes { get; init; }

    [JsonPropertyName("dirty-pages-rate")]
    public long DirtyPagesRate { get; init; }

    /// <summary>Throughput in megabits per second, as QEMU measures it.</summary>
    [JsonPropertyName("mbps")]
    public double Mbps { get; init; }

    [JsonPropertyName("dirty-sync-count")]
    public long DirtySyncCount { get; init; }

    [JsonPropertyName("page-size")]
    public long PageSize { get; init; }
}
