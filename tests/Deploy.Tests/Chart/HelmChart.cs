using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ferry.Deploy.Tests.Support;
using Ferry.Deploy.Tests.Yaml;
using Ferry.Testing;

namespace Ferry.Deploy.Tests.Chart;

/// <summary>
/// A Helm chart on disk, rendered as <c>helm template</c> renders it: the user's values merged onto
/// values.yaml, the built-in objects Helm gives templates (<c>.Values</c>, <c>.Release</c>, <c>.Chart</c>),
/// every template parsed with the chart's helpers and executed by Go's text/template, and the output split
/// into documents. Objects the chart does not use (<c>.Capabilities</c>, <c>.Files</c>, <c>.Template</c>) are
/// not given: the engine runs with missingkey=error, so a template that used one would fail here.
/// </summary>
public sealed partial class HelmChart
{
    private HelmChart(string directory)
    {
        Directory = directory;
        Metadata = (JsonObject)YamlJson.Document(File.ReadAllText(Path.Combine(directory, "Chart.yaml")));
        Defaults = (JsonObject)YamlJson.Document(File.ReadAllText(Path.Combine(directory, "values.yaml")));
        var templates = Path.Combine(directory, "templates");
        Helpers = string.Concat(System.IO.Directory.GetFiles(templates, "_*.tpl").Order(StringComparer.Ordinal).Select(File.ReadAllText));
        Templates = [.. System.IO.Directory.GetFiles(templates)
            .Where(f => !Path.GetFileName(f).StartsWith('_'))
            .Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), File.ReadAllText(f)))];
    }

    public static HelmChart Ferry { get; } = new(Path.Combine(Repository.Root, "deploy", "helm", "ferry"));

    public string Directory { get; }

    public JsonObject Metadata { get; }

    /// <summary>values.yaml.</summary>
    public JsonObject Defaults { get; }

    public string Helpers { get; }

    public IReadOnlyList<(string Name, string Text)> Templates { get; }

    /// <summary>The chart's sample values files (ci/*-values.yaml, as chart-testing finds them).</summary>
    public IEnumerable<string> SampleValuesFiles =>
        System.IO.Directory.GetFiles(Path.Combine(Directory, "ci"), "*-values.yaml").Order(StringComparer.Ordinal).Select(Path.GetFileName)!;

    public JsonObject SampleValues(string file) => (JsonObject)YamlJson.Document(File.ReadAllText(Path.Combine(Directory, "ci", file)));

    /// <summary>values.yaml with <paramref name="user"/> merged over it (<c>helm install -f</c>).</summary>
    public JsonObject Values(JsonObject? user = null) => user is null ? (JsonObject)Defaults.DeepClone() : HelmValues.Merge(Defaults, user);

    /// <summary>Renders every template with <paramref name="values"/> (already merged); throws naming each template that failed.</summary>
    public async Task<RenderedChart> RenderAsync(JsonObject values, string release = "ferry", string @namespace = "nfv")
    {
        var data = new JsonObject
        {
            ["Values"] = values.DeepClone(),
            ["Release"] = new JsonObject
            {
                ["Name"] = release,
                ["Namespace"] = @namespace,
                ["Service"] = "Helm",
                ["IsInstall"] = true,
                ["IsUpgrade"] = false,
                ["Revision"] = 1,
            },
            // Chart.yaml's fields under the names of Helm's chart.Metadata.
            ["Chart"] = new JsonObject
            {
                ["Name"] = Metadata["name"]?.DeepClone(),
                ["Version"] = Metadata["version"]?.DeepClone(),
                ["AppVersion"] = Metadata["appVersion"]?.DeepClone(),
                ["Description"] = Metadata["description"]?.DeepClone(),
                ["Type"] = Metadata["type"]?.DeepClone(),
                ["KubeVersion"] = Metadata["kubeVersion"]?.DeepClone(),
                ["APIVersion"] = Metadata["apiVersion"]?.DeepClone(),
            },
        };
        var input = new JsonObject
        {
            ["data"] = data,
            ["helpers"] = Helpers,
            ["templates"] = new JsonArray([.. Templates.Select(t => (JsonNode)new JsonObject { ["name"] = t.Name, ["text"] = t.Text })]),
        };
        var output = JsonNode.Parse(await NodeScripts.RunAsync("render.mjs", input.ToJsonString()))!.AsArray();
        var failures = output.Where(r => r!["error"] is not null).Select(r => $"{r!["name"]}: {r["error"]}").ToList();
        if (failures.Count > 0)
        {
            throw new TemplateRenderException(string.Join("\n", failures));
        }

        var manifests = new List<Manifest>();
        var notes = "";
        foreach (var result in output)
        {
            var name = (string)result!["name"]!;
            var text = (string)result["output"]!;
            if (name == "NOTES.txt")
            {
                notes = text;
                continue;
            }

            // Helm splits a template's output at "---" lines and drops what holds nothing.
            foreach (var piece in DocumentSeparator().Split(text))
            {
                var documents = YamlJson.Documents(piece);
                if (documents.Count == 0)
                {
                    continue;
                }

                manifests.Add(new Manifest(name, piece, documents.Single() as JsonObject
                    ?? throw new InvalidDataException($"{name} rendered a document that is no mapping: {documents.Single().ToJsonString()}")));
            }
        }

        return new RenderedChart(manifests, notes);
    }

    public static string Json(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    [GeneratedRegex(@"^---[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex DocumentSeparator();
}
