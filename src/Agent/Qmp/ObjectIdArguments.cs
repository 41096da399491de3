using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>Arguments of <c>object-del</c>.</summary>
internal sealed record ObjectIdArguments([property: JsonPropertyName("id")] string Id);
