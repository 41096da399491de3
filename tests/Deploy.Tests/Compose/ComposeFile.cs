using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ferry.Deploy.Tests.Yaml;
using Ferry.Testing;

namespace Ferry.Deploy.Tests.Compose;

/// <summary>
/// docker-compose.yml read as <c>docker compose config</c> reads it: variables interpolated from the
/// caller's environment (<c>${VAR}</c>, <c>${VAR:-default}</c>, <c>${VAR:?error}</c>, <c>$$</c> for a dollar
/// sign) in every string of the file, then parsed. The comments are kept for what they tell the reader.
/// </summary>
public sealed partial class ComposeFile
{
    private ComposeFile(string text, JsonObject model)
    {
        Text = text;
        Model = model;
    }

    public static string DefaultPath { get; } = Path.Combine(Repository.Root, "docker-compose.yml");

    /// <summary>The file as written.</summary>
    public string Text { get; }

    /// <summary>The file as compose sees it after interpolation.</summary>
    public JsonObject Model { get; }

    /// <summary>Every comment line, without its <c>#</c>.</summary>
    public IEnumerable<string> Comments => Text.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('#')).Select(l => l.TrimStart('#').Trim());

    /// <summary>Reads the file with <paramref name="environment"/> as the shell's environment; throws as compose refuses a <c>${VAR:?}</c> left unset.</summary>
    public static ComposeFile Load(IReadOnlyDictionary<string, string> environment, string? path = null)
    {
        var text = File.ReadAllText(path ?? DefaultPath);
        var model = (JsonObject)YamlJson.Document(text);
        return new ComposeFile(text, (JsonObject)Interpolate(model, environment)!);
    }

    public JsonObject Service(string name) =>
        Model["services"]?[name] as JsonObject ?? throw new Xunit.Sdk.XunitException($"docker-compose.yml has no service {name}");

    /// <summary>A service's environment: the map form or the list form (NAME=value).</summary>
    public static IReadOnlyDictionary<string, string> Environment(JsonObject service) => service["environment"] switch
    {
        null => new Dictionary<string, string>(),
        JsonObject map => map.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? "", StringComparer.Ordinal),
        JsonArray list => list.Select(e => ((string)e!).Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal),
        var other => throw new InvalidDataException($"environment is neither a map nor a list: {other.ToJsonString()}"),
    };

    /// <summary>The container ports a service publishes, with the host port each is published on.</summary>
    public static IReadOnlyDictionary<int, int> PublishedPorts(JsonObject service)
    {
        var ports = new Dictionary<int, int>();
        foreach (var port in service["ports"]?.AsArray() ?? [])
        {
            if (port is JsonObject longForm)
            {
                ports[int.Parse(longForm["target"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture)] =
                    int.Parse(longForm["published"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture);
                continue;
            }

            // [ip:]host:container[/protocol]
            var parts = port!.ToString().Split('/')[0].Split(':');
            ports[int.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture)] = int.Parse(parts[^2], System.Globalization.CultureInfo.InvariantCulture);
        }

        return ports;
    }

    /// <summary>Compose's interpolation of one string.</summary>
    public static string Interpolate(string value, IReadOnlyDictionary<string, string> environment) =>
        Variable().Replace(value, m =>
        {
            if (m.Value == "$$")
            {
                return "$";
            }

            var name = m.Groups["name"].Success ? m.Groups["name"].Value : m.Groups["bare"].Value;
            var set = environment.TryGetValue(name, out var current) && current.Length > 0;
            return m.Groups["op"].Value switch
            {
                ":-" => set ? current! : m.Groups["arg"].Value,
                ":?" => set ? current! : throw new InvalidOperationException($"required variable {name} is missing a value: {m.Groups["arg"].Value}"),
                "" => current ?? "",
                var op => throw new InvalidDataException($"interpolation {op} is not handled here: {m.Value}"),
            };
        });

    private static JsonNode? Interpolate(JsonNode? node, IReadOnlyDictionary<string, string> environment) => node switch
    {
        JsonObject map => new JsonObject(map.Select(kv => KeyValuePair.Create(kv.Key, Interpolate(kv.Value, environment)))),
        JsonArray list => new JsonArray([.. list.Select(n => Interpolate(n, environment))]),
        JsonValue value when value.TryGetValue<string>(out var text) => JsonValue.Create(Interpolate(text, environment)),
        _ => node?.DeepClone(),
    };

    [GeneratedRegex(@"\$\$|\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?<op>:?[-?+])?(?<arg>[^}]*)\}|\$(?<bare>[A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Variable();
}
