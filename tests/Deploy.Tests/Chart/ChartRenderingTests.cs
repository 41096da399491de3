using System.Text.Json.Nodes;
using Ferry.Deploy.Tests.Kubernetes;

namespace Ferry.Deploy.Tests.Chart;

/// <summary>The chart renders, with its defaults and with each sample values file, into objects the Kubernetes API accepts.</summary>
public sealed class ChartRenderingTests
{
    /// <summary>"" is values.yaml alone; the others are ci/*-values.yaml over it.</summary>
    public static TheoryData<string> ValueSets()
    {
        var sets = new TheoryData<string> { "" };
        foreach (var file in HelmChart.Ferry.SampleValuesFiles)
        {
            sets.Add(file);
        }

        return sets;
    }

    public static JsonObject ValuesOf(string set) => set.Length == 0 ? HelmChart.Ferry.Values() : HelmChart.Ferry.Values(HelmChart.Ferry.SampleValues(set));

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Every_object_conforms_to_the_Kubernetes_schema_of_its_kind(string set)
    {
        var chart = await HelmChart.Ferry.RenderAsync(ValuesOf(set));

        Assert.NotEmpty(chart.Manifests);
        var verdicts = await KubernetesSchemas.ValidateAsync(chart.Manifests.Select(m => m.Object));
        var failures = chart.Manifests.Zip(verdicts).Where(x => x.Second.Count > 0).Select(x => $"{x.First}: {string.Join("; ", x.Second)}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Every_built_in_object_reads_strictly_into_its_model_with_no_unknown_field(string set)
    {
        var chart = await HelmChart.Ferry.RenderAsync(ValuesOf(set));

        var failures = chart.Manifests.Where(m => KubernetesModels.Knows(m.ApiVersion, m.Kind))
            .Select(m => (Manifest: m, Problem: KubernetesModels.Problem(m.ApiVersion, m.Kind, m.Yaml)))
            .Where(x => x.Problem is not null).Select(x => $"{x.Manifest}: {x.Problem}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.All(chart.Manifests.Where(m => !KubernetesModels.Knows(m.ApiVersion, m.Kind)), m => Assert.Equal("ServiceMonitor", m.Kind));
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Names_are_unique_and_fit_a_DNS_label_with_Helms_longest_release_name(string set)
    {
        var release = new string('r', 53);
        var chart = await HelmChart.Ferry.RenderAsync(ValuesOf(set), release);

        Assert.All(chart.Manifests, m => Assert.Matches("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", m.Name));
        Assert.Equal(chart.Manifests.Count, chart.Manifests.Select(m => (m.Kind, m.Name)).Distinct().Count());
        Assert.All(chart.Manifests, m => Assert.Equal("nfv", (string?)m.Object["metadata"]!["namespace"]));
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Every_selector_selects_its_own_pods_and_no_other_components(string set)
    {
        var chart = await HelmChart.Ferry.RenderAsync(ValuesOf(set));
        var pods = chart.Manifests.Where(m => m.Kind is "Deployment" or "DaemonSet" or "StatefulSet")
            .ToDictionary(m => m.Name, m => m.Object["spec"]!["template"]!["metadata"]!["labels"]!.AsObject());

        foreach (var workload in chart.Manifests.Where(m => m.Kind is "Deployment" or "DaemonSet" or "StatefulSet"))
        {
            Assert.True(Selects(workload.Object["spec"]!["selector"]!["matchLabels"]!.AsObject(), pods[workload.Name]), $"{workload} does not select its own pods");
        }

        foreach (var selector in chart.OfKind("Service").Select(s => (s, s.Object["spec"]!["selector"]!.AsObject()))
                     .Concat(chart.OfKind("PodDisruptionBudget").Select(p => (p, p.Object["spec"]!["selector"]!["matchLabels"]!.AsObject()))))
        {
            var selected = pods.Where(p => Selects(selector.Item2, p.Value)).Select(p => p.Key).ToList();
            Assert.True(selected.Count == 1, $"{selector.Item1} selects {selected.Count} workloads' pods: {string.Join(", ", selected)}");
        }
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Every_Service_port_targets_a_port_its_pods_declare(string set)
    {
        var chart = await HelmChart.Ferry.RenderAsync(ValuesOf(set));
        var workloads = chart.Manifests.Where(m => m.Kind is "Deployment" or "DaemonSet" or "StatefulSet").ToList();

        foreach (var service in chart.OfKind("Service"))
        {
            var selector = service.Object["spec"]!["selector"]!.AsObject();
            var workload = workloads.Single(w => Selects(selector, w.Object["spec"]!["template"]!["metadata"]!["labels"]!.AsObject()));
            var declared = RenderedChart.PodSpec(workload)["containers"]!.AsArray().SelectMany(c => c!["ports"]?.AsArray() ?? []).Select(p => (string?)p!["name"]).ToHashSet();
            Assert.All(service.Object["spec"]!["ports"]!.AsArray(), p => Assert.Contains((string?)p!["targetPort"], declared));
        }
    }

    [Fact]
    public async Task NOTES_txt_renders_and_tells_where_REST_and_the_agents_API_are()
    {
        var chart = await HelmChart.Ferry.RenderAsync(HelmChart.Ferry.Values());

        Assert.Contains("svc/ferry-api", chart.Notes, StringComparison.Ordinal);
        Assert.Contains("https://ferry-api-grpc.nfv.svc:8443", chart.Notes, StringComparison.Ordinal);
        Assert.Contains("ferry.io/compute=true", chart.Notes, StringComparison.Ordinal);
    }

    private static bool Selects(JsonObject selector, JsonObject labels) =>
        selector.Count > 0 && selector.All(kv => labels[kv.Key] is JsonNode v && (string?)v == (string?)kv.Value);
}
