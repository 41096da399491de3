using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Ferry.Deploy.Tests.Yaml;

/// <summary>
/// YAML documents as JSON, typed the way Helm and the Kubernetes API server type them (sigs.k8s.io/yaml
/// over go-yaml v2, YAML 1.1): a plain <c>0440</c> is octal, <c>yes</c>/<c>on</c> are booleans, quoted
/// scalars are strings. Duplicate keys are an error, as they are to the API server.
/// </summary>
public static class YamlJson
{
    /// <summary>Every document of <paramref name="text"/> that holds something (one of comments alone is null, and left out).</summary>
    public static IReadOnlyList<JsonNode> Documents(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return [.. stream.Documents.Select(d => Convert(d.RootNode)).OfType<JsonNode>()];
    }

    /// <summary>The single document of <paramref name="text"/>; an empty document is an empty object.</summary>
    public static JsonNode Document(string text) => Documents(text) switch
    {
        [] => new JsonObject(),
        [var one] => one,
        var many => throw new InvalidDataException($"expected one YAML document, found {many.Count}"),
    };

    public static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => Mapping(map),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(Convert)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidDataException($"unsupported YAML node at {node.Start}"),
    };

    private static JsonObject Mapping(YamlMappingNode map)
    {
        var result = new JsonObject();
        foreach (var (key, value) in map.Children)
        {
            var name = key is YamlScalarNode { Value: { } k } ? k : throw new InvalidDataException($"non-scalar key at {key.Start}");
            if (result.ContainsKey(name))
            {
                throw new InvalidDataException($"duplicate key '{name}' at {key.Start}");
            }

            result[name] = Convert(value);
        }

        return result;
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded || scalar.Tag == "tag:yaml.org,2002:str")
        {
            return JsonValue.Create(text);
        }

        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "y" or "Y" or "yes" or "Yes" or "YES" or "on" or "On" or "ON" or "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "n" or "N" or "no" or "No" or "NO" or "off" or "Off" or "OFF" or "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        var digits = text.Replace("_", "", StringComparison.Ordinal);
        var negative = digits.StartsWith('-');
        var unsigned = digits.TrimStart('+', '-');
        long? integer = unsigned switch
        {
            _ when unsigned.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(unsigned[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex) => hex,
            _ when unsigned.StartsWith("0b", StringComparison.Ordinal) && unsigned.Length > 2 && unsigned[2..].All(c => c is '0' or '1') => System.Convert.ToInt64(unsigned[2..], 2),
            // YAML 1.1: a leading zero makes an integer octal (file modes: 0440 is 288).
            _ when unsigned.Length > 1 && unsigned[0] == '0' && unsigned.All(c => c is >= '0' and <= '7') => System.Convert.ToInt64(unsigned, 8),
            _ when unsigned.Length > 0 && unsigned.All(char.IsAsciiDigit) && long.TryParse(unsigned, NumberStyles.None, CultureInfo.InvariantCulture, out var dec) => dec,
            _ => null,
        };
        if (integer is { } i && digits.Length > 0 && digits.TrimStart('+', '-').Length == unsigned.Length)
        {
            return JsonValue.Create(negative ? -i : i);
        }

        if (System.Text.RegularExpressions.Regex.IsMatch(text, @"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")
            && double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
        {
            return JsonValue.Create(real);
        }

        return JsonValue.Create(text);
    }
}
