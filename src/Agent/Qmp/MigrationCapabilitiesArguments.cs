using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

internal sealed record MigrationCapabilitiesArguments(
    [property: JsonPropertyName("capabilities")] IReadOnlyList<MigrationCapability> Capabilities);
