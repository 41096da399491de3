using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;
using Ferry.Testing;

namespace Ferry.Deploy.Tests.Conventions;

/// <summary>
/// The API's and the agent's options look alike: each class declares its <c>Section</c>, every section is under
/// <c>Ferry:</c>, every setting has an XML doc where it is declared (checked on the generated documentation
/// file), and docs/configuration.md lists exactly the keys there are. Found by reflection over the built
/// assemblies: a new options class is checked without being added here.
/// </summary>
[Trait("Tier", "fast")]
public sealed partial class OptionsTests
{
    [Fact]
    public void Every_options_section_of_the_API_and_the_agent_is_under_Ferry()
    {
        var sections = OptionsTypes().Select(t => $"{t.Type.FullName}: {t.Section}").ToList();
        Assert.True(sections.Count >= 15, "found only these options classes:" + Environment.NewLine + string.Join(Environment.NewLine, sections));
        var outside = OptionsTypes().Where(t => !t.Section.StartsWith("Ferry:", StringComparison.Ordinal)).Select(t => $"{t.Type.FullName}: {t.Section}").ToList();
        Assert.True(outside.Count == 0, "sections outside Ferry: (the scheme is Ferry:<Component>):" + Environment.NewLine + string.Join(Environment.NewLine, outside));
    }

    [Fact]
    public void Every_setting_has_an_XML_doc_where_it_is_declared()
    {
        var missing = new List<string>();
        foreach (var assembly in OptionsTypes().Select(t => t.Type.Assembly).Distinct())
        {
            var xml = Path.ChangeExtension(assembly.Location, ".xml");
            Assert.True(File.Exists(xml), $"{xml} is missing: the project must generate its documentation file (Directory.Build.props does)");
            var documented = MemberDoc().Matches(File.ReadAllText(xml)).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            missing.AddRange(Settings().Where(s => s.Property.DeclaringType!.Assembly == assembly)
                .Select(s => $"P:{s.Property.DeclaringType!.FullName}.{s.Property.Name}")
                .Where(member => !documented.Contains(member)));
        }

        Assert.True(missing.Count == 0, "settings without an XML doc:" + Environment.NewLine + string.Join(Environment.NewLine, missing.Distinct().Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void The_configuration_doc_lists_every_key_and_no_other()
    {
        var text = File.ReadAllText(Path.Combine(Repository.Root, "docs", "configuration.md"));
        var documented = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string? prefix = null;
        foreach (var line in text.Split('\n'))
        {
            if (TableHeader().Match(line) is { Success: true } header)
            {
                prefix = header.Groups[1].Value + ":";
            }
            else if (prefix is not null && TableRow().Match(line) is { Success: true } row)
            {
                documented.Add(prefix + row.Groups[1].Value);
            }
            else if (!line.StartsWith('|'))
            {
                prefix = null;
            }
        }

        var keys = Settings().Select(s => s.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var problems = keys.Where(k => !documented.Contains(k)).Select(k => $"{k} is a setting docs/configuration.md does not list")
            .Concat(documented.Where(k => !keys.Contains(k)).Select(k => $"{k} is listed in docs/configuration.md but no options class has it"))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// <summary>Every class with a <c>Section</c> constant in the API, the agent and what they share.</summary>
    private static IEnumerable<(Type Type, string Section)> OptionsTypes() =>
        new[] { typeof(Ferry.Api.Scheduling.SchedulerOptions).Assembly, typeof(Ferry.Agent.AgentOptions).Assembly, typeof(Ferry.ServiceDefaults.Trust.ClusterTlsOptions).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal)
                && t.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true, FieldType: var f } && f == typeof(string))
            .Select(t => (t, (string)t.GetField("Section")!.GetRawConstantValue()!));

    /// <summary>Every key the options bind, nested options and list items included (<c>Ferry:Security:ApiKeys:&lt;n&gt;:Name</c>).</summary>
    private static IEnumerable<(string Key, PropertyInfo Property)> Settings() =>
        OptionsTypes().SelectMany(t => SettingsOf(t.Type, t.Section));

    private static IEnumerable<(string Key, PropertyInfo Property)> SettingsOf(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
        {
            var key = $"{prefix}:{property.Name}";
            var item = property.PropertyType.IsGenericType && typeof(IEnumerable).IsAssignableFrom(property.PropertyType) && property.PropertyType != typeof(string)
                ? property.PropertyType.GetGenericArguments()[0]
                : null;
            if (item is not null && IsOptions(item))
            {
                foreach (var nested in SettingsOf(item, key + ":<n>"))
                {
                    yield return nested;
                }
            }
            else if (item is null && IsOptions(property.PropertyType))
            {
                foreach (var nested in SettingsOf(property.PropertyType, key))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return (key, property);
            }
        }
    }

    /// <summary>A class of settings of its own (Jwt, an API key), rather than a value.</summary>
    private static bool IsOptions(Type type) => type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("Ferry.", StringComparison.Ordinal) == true;

    [GeneratedRegex(@"<member name=""(P:[^""]+)"">\s*<summary>", RegexOptions.CultureInvariant)]
    private static partial Regex MemberDoc();

    // A table's header row says "default" in its second column; a row such as `ApiKeys:<n>:…` (a pointer to the next table) is not a header.
    [GeneratedRegex(@"^\| `([^`]+):…`[^|]*\| default \|", RegexOptions.CultureInvariant)]
    private static partial Regex TableHeader();

    [GeneratedRegex(@"^\| `([A-Za-z]+)` \|", RegexOptions.CultureInvariant)]
    private static partial Regex TableRow();
}
