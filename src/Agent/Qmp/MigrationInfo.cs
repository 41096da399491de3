using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>The answer of <c>query-migrate</c> (QAPI <c>MigrationInfo</c>); members QEMU omits stay null.</summary>
public sealed record MigrationInfo
{
    [JsonPropertyName("status")]
    public string? Status { get; init; }

    [JsonPropertyName("total-time")]
    public long? TotalTimeMs { get; init; }

    [JsonPropertyName("downtime")]
    public long? DowntimeMs { get; init; }

    [JsonPropertyName("expected-downtime")]
    public long? ExpectedDowntimeMs { get; init; }

    [JsonPropertyName("setup-time")]
    public long? SetupTimeMs { get; init; }

    [JsonPropertyName("error-desc")]
    public string? ErrorDescription { get; init; }

    [JsonPropertyName("ram")]
    public MigrationRamStats? Ram { get; init; }

    public QmpMigrationStatus State => QmpMigrationStatuses.Parse(Status);
}
