using Ferry.Agent;
using Ferry.Deploy.Tests.Configuration;
using Ferry.ServiceDefaults.Trust;

namespace Ferry.Deploy.Tests.Chart;

/// <summary>
/// Each pod the chart renders, started on paper as the kubelet would start it (<see cref="FerryRelease.Pod"/>):
/// its environment and volumes resolve against what exists in the namespace, and the settings it gives the
/// API and the agent are ones their options classes take, with the files they name in the pod's volumes.
/// </summary>
public sealed class PodEnvironmentTests
{
    /// <summary>What an agent cannot do without, in a pod or on a host.</summary>
    public static readonly string[] AgentRequired =
        ["Ferry__Agent__HostName", "Ferry__Agent__MigrationAddress", "Ferry__Agent__GrpcUrl", "Ferry__Agent__ApiUrl", "Ferry__Tls__CaFile", "Ferry__Tls__CertificateFile", "Ferry__Tls__KeyFile"];

    public static TheoryData<string> ValueSets() => ChartRenderingTests.ValueSets();

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Every_container_finds_its_Secrets_ConfigMaps_and_volumes_and_every_volume_is_mounted(string set)
    {
        using var release = await FerryRelease.InstallAsync(ChartRenderingTests.ValuesOf(set));

        var workloads = release.Chart.Manifests.Where(m => m.Kind is "Deployment" or "DaemonSet" or "StatefulSet").ToList();
        Assert.NotEmpty(workloads);
        foreach (var workload in workloads)
        {
            var pod = FerryRelease.PodSpec(workload);
            var mounted = new HashSet<string>(StringComparer.Ordinal);
            foreach (var container in pod["containers"]!.AsArray().Concat(pod["initContainers"]?.AsArray() ?? []))
            {
                var name = (string)container!["name"]!;
                var sandbox = Record.Exception(() => release.Pod(workload, name));
                Assert.True(sandbox is null, $"{workload} container {name} would not start: {sandbox?.Message}");
                mounted.UnionWith((container["volumeMounts"]?.AsArray() ?? []).Select(m => (string)m!["name"]!));
            }

            var unused = (pod["volumes"]?.AsArray() ?? []).Select(v => (string)v!["name"]!).Where(v => !mounted.Contains(v)).ToList();
            Assert.True(unused.Count == 0, $"{workload} declares volumes no container mounts: {string.Join(", ", unused)}");
        }
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_APIs_environment_binds_strictly_to_its_options_and_has_what_it_cannot_start_without(string set)
    {
        using var release = await FerryRelease.InstallAsync(ChartRenderingTests.ValuesOf(set));
        var env = release.Pod(release.Chart.Get("Deployment", "ferry-api"), "api").Environment;

        var problems = FerrySettings.Problems(env, FerrySettings.Api, FerrySettings.ApiOtherKeys, "ConnectionStrings__Ferry", "Kestrel__Endpoints__Http__Url", "Kestrel__Endpoints__Grpc__Url");
        Assert.True(problems.Count == 0, string.Join("\n", problems));

        // The ControlPlane's mutual TLS: three files in the pod, naming the API, and a Grpc endpoint served over https.
        var tls = FerrySettings.Bind<ClusterTlsOptions>(env, ClusterTlsOptions.Section);
        Assert.True(tls.IsConfigured, "the API's pod configures no cluster certificates");
        Assert.Null(tls.Problem(ClusterPeer.Api));
        Assert.StartsWith("https://", env["Kestrel__Endpoints__Grpc__Url"], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Every_file_a_setting_names_is_in_a_volume_of_its_pod(string set)
    {
        using var release = await FerryRelease.InstallAsync(ChartRenderingTests.ValuesOf(set));

        foreach (var (workload, container) in new[] { ("Deployment", "api"), ("DaemonSet", "agent") })
        {
            var manifest = release.Chart.Get(workload, workload == "Deployment" ? "ferry-api" : "ferry-agent");
            var sandbox = release.Pod(manifest, container);
            var files = sandbox.Environment.Where(kv => kv.Key.EndsWith("File", StringComparison.Ordinal) || kv.Key.EndsWith("Socket", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(files);
            foreach (var (key, path) in files)
            {
                // The sandbox rewrote every path that lies in a mount to where the mount is here.
                Assert.True(path.StartsWith(sandbox.Root, StringComparison.Ordinal), $"{manifest} {key}={path} is in no volume of the container");
                if (key.EndsWith("File", StringComparison.Ordinal))
                {
                    Assert.True(File.Exists(path), $"{manifest} {key} names {path[sandbox.Root.Length..]}, which its volume does not hold");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_agents_environment_binds_strictly_to_its_options_and_makes_the_node_its_Ferry_host(string set)
    {
        using var release = await FerryRelease.InstallAsync(ChartRenderingTests.ValuesOf(set));
        var env = release.Pod(release.Chart.Get("DaemonSet", "ferry-agent"), "agent").Environment;

        // AgentOptions has defaults for these (localhost, 127.0.0.1) that would start an agent no one reaches.
        var problems = FerrySettings.Problems(env, FerrySettings.Agent, FerrySettings.AgentOtherKeys, AgentRequired);
        Assert.True(problems.Count == 0, string.Join("\n", problems));

        var agent = FerrySettings.Bind<AgentOptions>(env, AgentOptions.Section);
        Assert.Null(agent.Problem());
        Assert.Equal(FerryRelease.NodeName, agent.HostName);
        Assert.Equal(FerryRelease.NodeAddress.ToString(), agent.MigrationAddress);
        Assert.Equal($"https://{FerryRelease.NodeAddress}:{release.Values["agent"]!["grpcPort"]}", agent.GrpcUrl);

        // It dials the API's gRPC Service, unless the values name another address.
        var grpc = release.Chart.Get("Service", "ferry-api-grpc");
        var expected = (string?)release.Values["agent"]!["apiUrl"] is { Length: > 0 } url ? url : $"https://ferry-api-grpc.nfv.svc:{grpc.Object["spec"]!["ports"]![0]!["port"]}";
        Assert.Equal(expected, agent.ApiUrl);

        var tls = FerrySettings.Bind<ClusterTlsOptions>(env, ClusterTlsOptions.Section);
        Assert.True(tls.IsConfigured, "the agent's pod configures no cluster certificates");
        Assert.Null(tls.Problem(ClusterPeer.Host(FerryRelease.NodeName)));
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_API_and_the_agents_agree_on_the_heartbeat(string set)
    {
        using var release = await FerryRelease.InstallAsync(ChartRenderingTests.ValuesOf(set));
        var api = release.Pod(release.Chart.Get("Deployment", "ferry-api"), "api").Environment;
        var agent = release.Pod(release.Chart.Get("DaemonSet", "ferry-agent"), "agent").Environment;

        var apiView = FerrySettings.Bind<Ferry.Api.Agents.AgentClientOptions>(api, Ferry.Api.Agents.AgentClientOptions.Section);
        var agentView = FerrySettings.Bind<AgentOptions>(agent, AgentOptions.Section);
        Assert.Equal(agentView.HeartbeatInterval, apiView.HeartbeatInterval);
    }
}
