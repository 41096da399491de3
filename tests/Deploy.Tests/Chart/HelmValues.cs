using System.Text.Json.Nodes;

namespace Ferry.Deploy.Tests.Chart;

/// <summary>How Helm merges the values a user gives (<c>-f</c>) onto a chart's values.yaml.</summary>
public static class HelmValues
{
    /// <summary>
    /// <paramref name="user"/> over <paramref name="defaults"/>, as Helm's coalescing does: maps merge key by
    /// key, a user's null deletes the key, anything else (lists too) replaces the default whole.
    /// </summary>
    public static JsonObject Merge(JsonObject defaults, JsonObject user)
    {
        var result = (JsonObject)defaults.DeepClone();
        foreach (var (key, value) in user)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else if (value is JsonObject userMap && result[key] is JsonObject defaultMap)
            {
                result[key] = Merge(defaultMap, userMap);
            }
            else
            {
                result[key] = value.DeepClone();
            }
        }

        return result;
    }
}
