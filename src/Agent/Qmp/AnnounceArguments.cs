using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>Arguments of <c>announce-self</c>: QEMU sends a RARP from every NIC's MAC, <see cref="Rounds"/> times.</summary>
internal sealed record AnnounceArguments(
    [property: JsonPropertyName("initial")] long InitialMs,
    [property: JsonPropertyName("max")] long MaxMs,
    [property: JsonPropertyName("rounds")] long Rounds,
    [property: JsonPropertyName("step")] long StepMs);
