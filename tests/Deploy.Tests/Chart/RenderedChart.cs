using System.Text.Json.Nodes;

namespace Ferry.Deploy.Tests.Chart;

/// <summary>What <c>helm template</c> would print for one set of values: the objects, and NOTES.txt.</summary>
public sealed class RenderedChart(IReadOnlyList<Manifest> manifests, string notes)
{
    public IReadOnlyList<Manifest> Manifests { get; } = manifests;

    public string Notes { get; } = notes;

    public Manifest? Find(string kind, string name) => Manifests.SingleOrDefault(m => m.Kind == kind && m.Name == name);

    public Manifest Get(string kind, string name) =>
        Find(kind, name) ?? throw new Xunit.Sdk.XunitException($"no {kind} {name} among: {string.Join(", ", Manifests)}");

    public IEnumerable<Manifest> OfKind(string kind) => Manifests.Where(m => m.Kind == kind);

    /// <summary>The pod template of a workload (Deployment, DaemonSet, StatefulSet).</summary>
    public static JsonObject PodSpec(Manifest workload) => (JsonObject)workload.Object["spec"]!["template"]!["spec"]!;

    public static JsonObject Container(Manifest workload, string name) =>
        PodSpec(workload)["containers"]!.AsArray().OfType<JsonObject>().Single(c => (string?)c["name"] == name);
}
