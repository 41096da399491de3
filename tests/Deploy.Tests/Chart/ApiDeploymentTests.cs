namespace Ferry.Deploy.Tests.Chart;

/// <summary>The API's Deployment stays up through voluntary disruptions and is probed where the API answers.</summary>
public sealed class ApiDeploymentTests
{
    public static TheoryData<string> ValueSets() => ChartRenderingTests.ValueSets();

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_disruption_budget_keeps_a_replica_up_and_still_lets_a_node_drain(string set)
    {
        var chart = await HelmChart.Ferry.RenderAsync(ChartRenderingTests.ValuesOf(set));
        var replicas = (long)chart.Get("Deployment", "ferry-api").Object["spec"]!["replicas"]!;
        var budget = chart.Get("PodDisruptionBudget", "ferry-api").Object["spec"]!;

        Assert.True(replicas >= 2, $"{replicas} API replica(s): the issue asks for two at least");
        Assert.True(budget["minAvailable"] is null ^ budget["maxUnavailable"] is null, "a budget sets minAvailable or maxUnavailable, not both");
        // As an eviction sees it: how many replicas may be down at once for the budget to hold.
        var allowed = budget["minAvailable"] is { } min ? replicas - (long)min : (long)budget["maxUnavailable"]!;
        Assert.True(allowed >= 1, $"the budget allows no eviction of {replicas} replicas: a node drain would hang");
        Assert.True(allowed < replicas, $"the budget lets all {replicas} replicas go at once");
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_API_is_probed_on_healthz_and_readyz_of_its_REST_port(string set)
    {
        var chart = await HelmChart.Ferry.RenderAsync(ChartRenderingTests.ValuesOf(set));
        var api = RenderedChart.Container(chart.Get("Deployment", "ferry-api"), "api");

        Assert.Equal("/healthz", (string?)api["livenessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/healthz", (string?)api["startupProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/readyz", (string?)api["readinessProbe"]!["httpGet"]!["path"]);
        Assert.All(new[] { "livenessProbe", "startupProbe", "readinessProbe" }, p => Assert.Equal("http", (string?)api[p]!["httpGet"]!["port"]));
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Every_container_requests_CPU_and_memory(string set)
    {
        var chart = await HelmChart.Ferry.RenderAsync(ChartRenderingTests.ValuesOf(set));

        foreach (var workload in chart.Manifests.Where(m => m.Kind is "Deployment" or "DaemonSet" or "StatefulSet"))
        {
            foreach (var container in RenderedChart.PodSpec(workload)["containers"]!.AsArray())
            {
                var requests = container!["resources"]?["requests"];
                Assert.True(requests?["cpu"] is not null && requests["memory"] is not null, $"{workload} container {container["name"]} requests no CPU or memory");
            }
        }
    }
}
