using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>One entry of <c>migrate-set-capabilities</c>.</summary>
public sealed record MigrationCapability(
    [property: JsonPropertyName("capability")] string Capability,
    [property: JsonPropertyName("state")] bool State)
{
    public const string Events = "events";
    public const string Multifd = "multifd";
    public const string AutoConverge = "auto-converge";
    public const string IgnoreShared = "x-ignore-shared";

    /// <summary>QEMU pauses the guest and waits in <c>pre-switchover</c> for <c>migrate-continue</c> before the final copy.</summary>
    public const string PauseBeforeSwitchover = "pause-before-switchover";
}
