using System.Text.Json.Nodes;
using Ferry.Deploy.Tests.Support;

namespace Ferry.Deploy.Tests.Kubernetes;

/// <summary>
/// The Kubernetes API's OpenAPI schema for each object's kind (types, required fields, enums), as the npm
/// packages kubernetes-models 5.1.0 (Kubernetes v1.36.0) and @kubernetes-models/prometheus-operator 6.0.0
/// ship them, compiled to validators. They do not reject unknown fields: <see cref="KubernetesModels"/> does.
/// </summary>
public static class KubernetesSchemas
{
    /// <summary>Each object's violations (empty when it conforms), in the order given.</summary>
    public static async Task<IReadOnlyList<IReadOnlyList<string>>> ValidateAsync(IEnumerable<JsonObject> objects)
    {
        var input = new JsonArray([.. objects.Select(o => (JsonNode)o.DeepClone())]);
        var output = JsonNode.Parse(await NodeScripts.RunAsync("validate.mjs", input.ToJsonString()))!.AsArray();
        return [.. output.Select(r => (IReadOnlyList<string>)[.. r!["errors"]!.AsArray().Select(e => (string)e!)])];
    }
}
