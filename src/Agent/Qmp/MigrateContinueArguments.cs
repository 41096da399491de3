using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>Arguments of <c>migrate-continue</c>: the paused state the migration continues from.</summary>
internal sealed record MigrateContinueArguments([property: JsonPropertyName("state")] string State);
