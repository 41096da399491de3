using System.Text.Json.Nodes;
using Ferry.Agent;

namespace Ferry.Deploy.Tests.Chart;

/// <summary>
/// The agent's DaemonSet has what an agent needs on a compute node (issue 14, section 4): the node's
/// network and PID namespace, a privileged container (which is what gives it the host's devices,
/// /dev/kvm among them), hugepages and a memory-backed /dev/shm for guests' RAM, and the node's OVS run
/// directory when it uses the node's switch.
/// </summary>
public sealed class AgentDaemonSetTests
{
    public static TheoryData<string> ValueSets() => ChartRenderingTests.ValueSets();

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_agent_runs_privileged_in_the_nodes_network_and_PID_namespaces_on_labelled_nodes(string set)
    {
        var (values, agent, container) = await RenderAgentAsync(set);
        var pod = RenderedChart.PodSpec(agent);

        Assert.True((bool?)pod["hostNetwork"], "hostNetwork: migration traffic and the AgentService use the node's address");
        Assert.True((bool?)pod["hostPID"], "hostPID: QEMU and the node's ovs-vswitchd are reached by pid (userfaultfd, /proc/<pid>/pagemap)");
        // With hostNetwork, ClusterFirst would resolve with the node's resolver and miss the API's Service name.
        Assert.Equal("ClusterFirstWithHostNet", (string?)pod["dnsPolicy"]);
        Assert.True((bool?)container["securityContext"]!["privileged"], "privileged: /dev/kvm, /dev/vhost-net, hugetlbfs, network and OVS administration");
        Assert.Equal(0L, (long?)container["securityContext"]!["runAsUser"]);

        var nodeSelector = pod["nodeSelector"]!.AsObject();
        foreach (var (label, value) in values["agent"]!["nodeSelector"]!.AsObject())
        {
            Assert.Equal((string?)value, (string?)nodeSelector[label]);
        }

        Assert.Equal("true", (string?)nodeSelector["ferry.io/compute"]);
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_agent_has_hugepages_and_a_memory_backed_dev_shm_for_guests_RAM(string set)
    {
        var (_, agent, container) = await RenderAgentAsync(set);

        Assert.Equal("Memory", (string?)VolumeAt(agent, container, "/dev/shm")["emptyDir"]!["medium"]);
        var medium = (string)VolumeAt(agent, container, "/dev/hugepages")["emptyDir"]!["medium"]!;

        // The kubelet admits a pod using hugepages only when it requests them with a limit equal to the request,
        // and a HugePages-<size> medium only for a size the pod requests; plain HugePages only with one size.
        var requests = container["resources"]!["requests"]!.AsObject();
        var limits = container["resources"]!["limits"]!.AsObject();
        var sizes = requests.Where(r => r.Key.StartsWith("hugepages-", StringComparison.Ordinal)).Select(r => r.Key).ToList();
        Assert.NotEmpty(sizes);
        Assert.All(sizes, size => Assert.Equal((string?)requests[size], (string?)limits[size]));
        if (medium == "HugePages")
        {
            Assert.Single(sizes);
        }
        else
        {
            Assert.Contains("hugepages-" + medium["HugePages-".Length..], sizes);
        }

        // Guests' RAM is charged to the pod: no memory or CPU limit (a throttled PMD thread drops packets).
        Assert.Null(limits["memory"]);
        Assert.Null(limits["cpu"]);
        Assert.NotNull(requests["cpu"]);
        Assert.NotNull(requests["memory"]);
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_agent_uses_the_nodes_OVS_run_directory_or_runs_its_own_switch(string set)
    {
        var (values, agent, container) = await RenderAgentAsync(set);
        var env = container["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => (string?)e!["value"]);
        var ovs = values["agent"]!["ovs"]!;

        if ((bool)ovs["useHostOvs"]!)
        {
            var directory = (string)ovs["hostRunDirectory"]!;
            Assert.Equal(directory, (string?)VolumeAt(agent, container, directory)["hostPath"]!["path"]);
            Assert.Equal("true", env["Ferry__Ovs__UseSystemInstance"]);
            Assert.Equal(directory + "/db.sock", env["Ferry__Ovs__SystemDbSocket"]);
        }
        else
        {
            Assert.Equal("false", env["Ferry__Ovs__UseSystemInstance"]);
            Assert.DoesNotContain(RenderedChart.PodSpec(agent)["volumes"]!.AsArray(), v => v!["hostPath"]?["path"] is JsonNode p && (string?)p == (string)ovs["hostRunDirectory"]!);
        }
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_agents_result_outbox_and_run_directory_are_the_nodes_own_directories(string set)
    {
        var (values, agent, container) = await RenderAgentAsync(set);
        var env = container["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => (string?)e!["value"]);

        // The outbox (Ferry:Agent:StateRoot) holds the only record of a result the API has not acknowledged: in the
        // container's own file system it would die with the container, so it must be the node's directory.
        foreach (var (setting, value) in new[] { ("Ferry__Agent__StateRoot", "stateRoot"), ("Ferry__Agent__RunRoot", "runRoot") })
        {
            var directory = (string)values["agent"]![value]!;
            Assert.Equal(directory, env[setting]);
            Assert.Equal(directory, (string?)VolumeAt(agent, container, directory)["hostPath"]?["path"]);
        }

        Assert.NotEqual(new AgentOptions().StateRoot, new AgentOptions().RunRoot);
    }

    [Fact]
    public async Task The_agent_is_left_out_when_disabled()
    {
        var chart = await HelmChart.Ferry.RenderAsync(HelmChart.Ferry.Values(new JsonObject { ["agent"] = new JsonObject { ["enabled"] = false } }));

        Assert.Empty(chart.OfKind("DaemonSet"));
        Assert.NotNull(chart.Find("Deployment", "ferry-api"));
    }

    /// <summary>The values of <paramref name="set"/>, the agent's DaemonSet they render, and its container.</summary>
    private static async Task<(JsonObject Values, Manifest Agent, JsonObject Container)> RenderAgentAsync(string set)
    {
        var values = ChartRenderingTests.ValuesOf(set);
        var agent = (await HelmChart.Ferry.RenderAsync(values)).Get("DaemonSet", "ferry-agent");
        return (values, agent, RenderedChart.Container(agent, "agent"));
    }

    /// <summary>The volume mounted at <paramref name="mountPath"/> in <paramref name="container"/>.</summary>
    private static JsonObject VolumeAt(Manifest workload, JsonObject container, string mountPath)
    {
        var mount = container["volumeMounts"]!.AsArray().SingleOrDefault(m => (string?)m!["mountPath"] == mountPath)
            ?? throw new Xunit.Sdk.XunitException($"{workload} mounts nothing at {mountPath}");
        return RenderedChart.PodSpec(workload)["volumes"]!.AsArray().OfType<JsonObject>().Single(v => (string?)v["name"] == (string?)mount["name"]);
    }
}
