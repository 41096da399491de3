using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ferry.Agent;
using Ferry.Api.Scheduling;
using Ferry.Deploy.Tests.Chart;
using Ferry.Deploy.Tests.Compose;
using Ferry.Testing;
using Ferry.Transfer.Dirty;

namespace Ferry.Deploy.Tests.Images;

/// <summary>
/// The images the chart and compose run: one Dockerfile per component, each publishing its own project and
/// starting its own assembly, the agent's with what the agent runs beside it (QEMU, OVS-DPDK, DPDK's drivers,
/// the preload library, curl for the chart's probes). There is no Docker here, so nothing is built: these read
/// the Dockerfiles, the chart (rendered) and compose, and scripts/install-deps.sh.
/// </summary>
public sealed partial class ContainerImageTests
{
    /// <summary>Packages scripts/install-deps.sh installs that the agent's image leaves out on purpose, and why.</summary>
    private static readonly Dictionary<string, string> NotForTheAgent = new(StringComparer.Ordinal)
    {
        ["postgresql"] = "the API's database",
        ["gcc"] = "the image compiles the preload library in a build stage",
        ["libc6-dev"] = "the image compiles the preload library in a build stage",
        ["make"] = "the README's commands",
        ["jq"] = "scripts/run.sh",
        ["socat"] = "a developer's tool; the agent starts no socat",
        ["cpio"] = "scripts/forwarding-guest/build.sh",
        ["chromium"] = "the dashboard's browser tests",
    };

    public static TheoryData<string> Components() => ["Api", "Agent"];

    [Theory]
    [MemberData(nameof(Components))]
    public void Each_component_has_a_Dockerfile_that_publishes_its_project_and_starts_its_assembly(string project)
    {
        var path = $"src/{project}/Dockerfile";
        Assert.True(File.Exists(Path.Combine(Repository.Root, path)), $"{path} does not exist");
        var stages = Dockerfile.Stages(path);
        var image = stages[^1];

        var (builder, csproj, output, selfContained) = Publish(path, stages);
        Assert.Equal($"src/{project}/{project}.csproj", csproj);
        Assert.True(File.Exists(Path.Combine(Repository.Root, csproj)), $"{path} publishes {csproj}, which does not exist");

        // What the builder published is copied into the image, and the entry point is the project's own assembly there.
        var workdir = image.Arguments("WORKDIR").LastOrDefault() ?? "/";
        var copy = image.Arguments("COPY").Select(a => a.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .SingleOrDefault(w => w[0] == $"--from={builder.Name}" && w[1].TrimEnd('/') == output.TrimEnd('/'))
            ?? throw new Xunit.Sdk.XunitException($"{path}: the image does not copy {output} from the stage {builder.Name} that published {csproj}");
        var installed = Resolve(workdir, copy[^1]);
        var assembly = AssemblyOf(project);
        var entry = Entrypoint(path, image);
        if (selfContained)
        {
            Assert.Equal(Resolve(installed, assembly), Resolve(workdir, entry[0]));
        }
        else
        {
            Assert.Equal("dotnet", entry[0]);
            Assert.Equal(Resolve(installed, assembly + ".dll"), Resolve(workdir, entry[1]));
        }
    }

    [Theory]
    [MemberData(nameof(ChartRenderingTests.ValueSets), MemberType = typeof(ChartRenderingTests))]
    public async Task The_chart_runs_the_agents_image_and_the_APIs_each_from_its_own_repository(string set)
    {
        var values = ChartRenderingTests.ValuesOf(set);
        var chart = await HelmChart.Ferry.RenderAsync(values);

        var api = (string?)RenderedChart.Container(chart.Get("Deployment", "ferry-api"), "api")["image"];
        var agent = (string?)RenderedChart.Container(chart.Get("DaemonSet", "ferry-agent"), "agent")["image"];
        Assert.Equal($"{values["api"]!["image"]!["repository"]}:{values["api"]!["image"]!["tag"]}", api);
        Assert.Equal($"{values["agent"]!["image"]!["repository"]}:{values["agent"]!["image"]!["tag"]}", agent);
        Assert.NotEqual(values["api"]!["image"]!["repository"]!.ToString(), values["agent"]!["image"]!["repository"]!.ToString());
    }

    [Fact]
    public void The_charts_values_and_compose_say_which_Dockerfile_builds_each_image()
    {
        var values = File.ReadAllLines(Path.Combine(HelmChart.Ferry.Directory, "values.yaml"));
        foreach (var (component, project) in new[] { ("api", "Api"), ("agent", "Agent") })
        {
            var repository = (string)HelmChart.Ferry.Defaults[component]!["image"]!["repository"]!;
            var line = values.SingleOrDefault(l => Regex.IsMatch(l, $@"^\s*repository:\s*{Regex.Escape(repository)}\s*#"))
                ?? throw new Xunit.Sdk.XunitException($"values.yaml: {component}.image.repository ({repository}) has no comment naming its Dockerfile");
            Assert.Contains($"src/{project}/Dockerfile", line, StringComparison.Ordinal);
        }

        var compose = ComposeFile.Load(new Dictionary<string, string> { ["FERRY_API_KEY_SHA256"] = new string('0', 64) });
        Assert.Equal("src/Api/Dockerfile", (string?)compose.Service("api")["build"]!["dockerfile"]);
        Assert.Contains(compose.Comments, c => c.Contains("src/Agent/Dockerfile", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_agents_image_has_what_the_agent_runs_beside_it_from_the_Debian_release_make_run_uses()
    {
        const string path = "src/Agent/Dockerfile";
        var stages = Dockerfile.Stages(path);
        var image = stages[^1];

        // install-deps.sh's package names are Debian 12's (librte-*23 belong to its DPDK 22.11).
        Assert.Matches(@"^debian:(12|bookworm)(-slim)?$", image.From);
        var packages = Installed(image);
        var wanted = Regex.Match(File.ReadAllText(Path.Combine(Repository.Root, "scripts", "install-deps.sh")), @"(?m)^packages=\(([^)]*)\)").Groups[1].Value
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(wanted);
        Assert.All(NotForTheAgent.Keys, p => Assert.Contains(p, wanted));
        var missing = wanted.Where(p => !NotForTheAgent.ContainsKey(p) && !packages.Contains(p)).ToList();
        Assert.True(missing.Count == 0, $"{path} does not install {string.Join(", ", missing)}, which scripts/install-deps.sh installs for the agent");
        Assert.Contains("qemu-system-x86", packages);
        Assert.Contains("openvswitch-switch-dpdk", packages);
        Assert.Contains("librte-mempool-ring23", packages);

        // The user guests' QEMUs drop to by default exists in the image, as install-deps.sh makes it on a host.
        var runAs = new Ferry.Agent.Qemu.QemuLauncherOptions().RunAs;
        Assert.Contains(image.Arguments("RUN"), r => Regex.IsMatch(r, $@"\buseradd\b.*\b{Regex.Escape(runAs)}\b"));

        // The chart's probes run a shell command with curl in the agent's container.
        var chart = await HelmChart.Ferry.RenderAsync(HelmChart.Ferry.Values());
        var agent = RenderedChart.Container(chart.Get("DaemonSet", "ferry-agent"), "agent");
        var probes = new[] { "startupProbe", "livenessProbe", "readinessProbe" }.Select(p => agent[p]?["exec"]?["command"]).OfType<JsonArray>().ToList();
        Assert.NotEmpty(probes);
        Assert.All(probes, command => Assert.Equal("sh", (string?)command[0]));
        if (probes.Any(command => command.Any(a => Regex.IsMatch((string)a!, @"\bcurl\b"))))
        {
            Assert.Contains("curl", packages);
        }

        // The preload library lies beside the agent (ProcessUserfaultfd looks in AppContext.BaseDirectory), built
        // against the image's own glibc: a stage on the image's base compiles it.
        var entry = Entrypoint(path, image)[0];
        var workdir = image.Arguments("WORKDIR").LastOrDefault() ?? "/";
        var library = image.Arguments("COPY").Select(a => a.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .SingleOrDefault(w => w[^1].EndsWith(ProcessUserfaultfd.PreloadLibraryName, StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"{path}: the image gets no {ProcessUserfaultfd.PreloadLibraryName}");
        Assert.Equal(Path.GetDirectoryName(Resolve(workdir, entry)), Path.GetDirectoryName(Resolve(workdir, library[^1])));
        var from = library[0].StartsWith("--from=", StringComparison.Ordinal) ? library[0]["--from=".Length..] : null;
        var compiler = stages.SingleOrDefault(s => s.Name == from) ?? throw new Xunit.Sdk.XunitException($"{path}: {ProcessUserfaultfd.PreloadLibraryName} comes from no stage of the file");
        Assert.Equal(image.From, compiler.From);
        Assert.Contains(compiler.Arguments("RUN"), r => r.Contains("gcc ", StringComparison.Ordinal) && r.Contains("ferry-uffd.c", StringComparison.Ordinal));
    }

    /// <summary>The project's assembly name, from the assembly this test project references (Ferry.$(MSBuildProjectName)).</summary>
    private static string AssemblyOf(string project) => (project switch
    {
        "Api" => typeof(SchedulerOptions).Assembly,
        "Agent" => typeof(AgentOptions).Assembly,
        _ => throw new ArgumentOutOfRangeException(nameof(project), project, "no such component"),
    }).GetName().Name!;

    /// <summary>The stage that runs <c>dotnet publish</c>: the project it publishes, where to, and whether self-contained.</summary>
    private static (DockerStage Stage, string Project, string Output, bool SelfContained) Publish(string path, IReadOnlyList<DockerStage> stages)
    {
        var found = stages.SelectMany(s => s.Arguments("RUN").Select(r => (Stage: s, Match: PublishCommand().Match(r)))).Where(x => x.Match.Success).ToList();
        var (stage, match) = Assert.Single(found);
        Assert.False(stage.Name is null, $"{path}: the stage that publishes has no name to copy from");
        var arguments = match.Groups["args"].Value;
        var output = Regex.Match(arguments, @"(?:-o|--output)\s+(\S+)");
        Assert.True(output.Success, $"{path}: dotnet publish names no output directory");
        return (stage, match.Groups["project"].Value, output.Groups[1].Value, Regex.IsMatch(arguments, @"--self-contained(\s|$)"));
    }

    /// <summary>The final stage's ENTRYPOINT, which must be in exec form (a JSON array): no shell between the runtime and the process.</summary>
    private static string[] Entrypoint(string path, DockerStage image)
    {
        var text = image.Arguments("ENTRYPOINT").LastOrDefault() ?? throw new Xunit.Sdk.XunitException($"{path}: the image has no ENTRYPOINT");
        var entry = JsonSerializer.Deserialize<string[]>(text) ?? [];
        return entry.Length > 0 ? entry : throw new Xunit.Sdk.XunitException($"{path}: ENTRYPOINT {text} is empty");
    }

    /// <summary>The packages a stage's <c>apt-get install</c> commands install.</summary>
    private static HashSet<string> Installed(DockerStage stage) =>
        stage.Arguments("RUN").SelectMany(r => r.Split("&&")).Select(c => c.Trim()).Where(c => c.StartsWith("apt-get install ", StringComparison.Ordinal))
            .SelectMany(c => c["apt-get install ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith('-'))).ToHashSet(StringComparer.Ordinal);

    private static string Resolve(string directory, string path) => Path.GetFullPath(Path.Combine(directory, path));

    [GeneratedRegex(@"dotnet publish (?<project>\S+\.csproj)(?<args>[^&]*)")]
    private static partial Regex PublishCommand();
}
