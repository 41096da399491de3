using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

internal sealed record MigrationUriArguments([property: JsonPropertyName("uri")] string Uri);
