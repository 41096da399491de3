using System.Text.Json.Nodes;

namespace Ferry.Deploy.Tests.Chart;

/// <summary>One Kubernetes object the chart rendered: its YAML as rendered, and the same as JSON.</summary>
public sealed record Manifest(string Template, string Yaml, JsonObject Object)
{
    public string ApiVersion => (string?)Object["apiVersion"] ?? "";

    public string Kind => (string?)Object["kind"] ?? "";

    public string Name => (string?)Object["metadata"]?["name"] ?? "";

    public override string ToString() => $"{Kind} {Name} ({Template})";
}
