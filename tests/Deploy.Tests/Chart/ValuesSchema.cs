using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Ferry.Deploy.Tests.Chart;

/// <summary>
/// A chart's values.schema.json, applied as Helm applies it on install, upgrade, lint and template: to the
/// values after the user's are merged over values.yaml. Evaluated with JsonSchema.Net (draft-07, the
/// schema's <c>$schema</c>), <c>format</c> asserted rather than only annotated.
/// </summary>
public sealed class ValuesSchema
{
    private readonly JsonSchema _schema;

    private ValuesSchema(string file) => _schema = JsonSchema.FromText(File.ReadAllText(file));

    public static ValuesSchema Ferry { get; } = new(Path.Combine(HelmChart.Ferry.Directory, "values.schema.json"));

    /// <summary>Each violation as "location: message"; empty when the values conform.</summary>
    public IReadOnlyList<string> Problems(JsonObject values)
    {
        using var document = JsonDocument.Parse(values.ToJsonString());
        var results = _schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.Hierarchical, RequireFormatValidation = true });
        if (results.IsValid)
        {
            return [];
        }

        var problems = new List<string>();
        Collect(results, problems);
        return problems.Count > 0 ? problems : ["invalid, with no detail from the validator"];
    }

    /// <summary>
    /// The errors of the failed subschemas that make their parent fail: an anyOf branch that failed beside one
    /// that held, or an <c>if</c> that did not apply, is no problem of the values.
    /// </summary>
    private static void Collect(EvaluationResults node, List<string> problems)
    {
        problems.AddRange((node.Errors ?? new Dictionary<string, string>()).Select(e => $"{node.InstanceLocation}: {e.Value} ({node.EvaluationPath})"));
        foreach (var child in (node.Details ?? []).Where(d => !d.IsValid && !d.EvaluationPath.ToString().EndsWith("/if", StringComparison.Ordinal)))
        {
            Collect(child, problems);
        }
    }
}
