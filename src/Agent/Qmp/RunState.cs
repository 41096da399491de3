using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>The answer of <c>query-status</c>.</summary>
public sealed record RunState
{
    [JsonPropertyName("running")]
    public bool Running { get; init; }

    /// <summary>QEMU's run state: <c>running</c>, <c>paused</c>, <c>inmigrate</c>, <c>postmigrate</c>, <c>finish-migrate</c>, ...</summary>
    [JsonPropertyName("status")]
    public string Status { get; init; } = string.Empty;
}
