using System.Reflection;
using System.Text.RegularExpressions;
using Ferry.Testing;
using Microsoft.Extensions.Logging;

namespace Ferry.Deploy.Tests.Conventions;

/// <summary>
/// Logging event ids are what an operator filters on (<c>EventId.Id == 3470</c> in a log query, an alert on one
/// event): each names one event of one service. Each service's ids live in one class of constants
/// (<c>ApiEventIds</c>, <c>AgentEventIds</c>, after YARP's <c>Utilities/EventIds.cs</c>); these read the built
/// assemblies' <see cref="LoggerMessageAttribute"/>s and those classes. Until 2026-12 twelve agent ids named two
/// events each (3400–3405 guests and OVS, 3460, 3470–3474), which nothing caught.
/// </summary>
[Trait("Tier", "fast")]
public sealed partial class EventIdTests
{
    /// <summary>The services that log, the class that holds their ids, and the range those ids keep to (so the API's and an agent's never meet in one log store either).</summary>
    private static readonly (string Class, int Lowest, int Highest)[] ServiceIds =
    [
        ("Ferry.Api.ApiEventIds", 100, 999),
        ("Ferry.Agent.AgentEventIds", 3000, 3999),
    ];

    public static TheoryData<string, int, int> Services()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var (eventIdsClass, lowest, highest) in ServiceIds)
        {
            data.Add(eventIdsClass, lowest, highest);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void Every_event_of_a_service_has_its_own_id_from_the_services_EventIds_class(string eventIdsClass, int lowest, int highest)
    {
        var type = EventIdsClass(eventIdsClass);
        var constants = type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int))
            .ToDictionary(f => f.Name, f => (int)f.GetRawConstantValue()!);
        Assert.NotEmpty(constants);
        var problems = new List<string>();
        problems.AddRange(constants.GroupBy(c => c.Value).Where(g => g.Count() > 1)
            .Select(g => $"{type.Name}: id {g.Key} is given to {string.Join(" and ", g.Select(c => c.Key))}"));
        problems.AddRange(constants.Where(c => c.Value < lowest || c.Value > highest)
            .Select(c => $"{type.Name}.{c.Key} = {c.Value} is outside the service's range {lowest}–{highest}"));

        var events = LoggerMessages(type.Assembly).ToList();
        Assert.NotEmpty(events);
        var byId = constants.GroupBy(c => c.Value).ToDictionary(g => g.Key, g => g.First().Key);
        problems.AddRange(events.Where(e => e.Id == -1).Select(e => $"{e.Method}: no EventId (take one from {type.Name})"));
        problems.AddRange(events.Where(e => e.Id != -1 && !byId.ContainsKey(e.Id))
            .Select(e => $"{e.Method}: EventId {e.Id} is not a constant of {type.Name}"));
        problems.AddRange(events.Where(e => e.Id != -1).GroupBy(e => e.Id).Where(g => g.Count() > 1)
            .Select(g => $"event id {g.Key}{(byId.TryGetValue(g.Key, out var name) ? $" ({type.Name}.{name})" : "")} is used by {g.Count()} log messages: {string.Join(", ", g.Select(e => e.Method))}"));
        var used = events.Select(e => e.Id).ToHashSet();
        problems.AddRange(constants.Where(c => !used.Contains(c.Value))
            .Select(c => $"{type.Name}.{c.Key} = {c.Value} is used by no log message: remove it, or keep it retired in a comment"));
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems.Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void The_assemblies_the_services_load_have_no_log_messages_of_their_own()
    {
        // Transfer, Domain, Contracts and ServiceDefaults (what the services load) have no EventIds class: a [LoggerMessage] there would need one first.
        var withClass = ServiceIds.Select(s => EventIdsClass(s.Class).Assembly).ToHashSet();
        var others = withClass.SelectMany(a => a.GetReferencedAssemblies())
            .Where(a => a.Name is { } n && n.StartsWith("Ferry.", StringComparison.Ordinal))
            .Select(Assembly.Load)
            .Distinct()
            .Where(a => !withClass.Contains(a))
            .ToList();
        Assert.NotEmpty(others);
        var events = others.SelectMany(LoggerMessages).Select(e => $"{e.Method}: EventId {e.Id}").ToList();
        Assert.True(events.Count == 0, "log messages in assemblies without an EventIds class (add one, or log from the service):" + Environment.NewLine + string.Join(Environment.NewLine, events));
    }

    [Fact]
    public void No_source_file_writes_an_event_id_as_a_number()
    {
        // The reflection above sees the compiled number only; this keeps the name in the source, where a reader
        // (and the next author, picking the next free id) finds the EventIds class.
        var literal = LiteralEventId();
        var found = Directory.EnumerateFiles(Path.Combine(Repository.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(path => File.ReadLines(path).Select((line, index) => (path, line, index)))
            .Where(l => literal.IsMatch(l.line))
            .Select(l => $"{Path.GetRelativePath(Repository.Root, l.path)}:{l.index + 1}: {l.line.Trim()}")
            .ToList();
        Assert.True(found.Count == 0, "event ids written as numbers (use the service's EventIds class):" + Environment.NewLine + string.Join(Environment.NewLine, found));
    }

    private static Type EventIdsClass(string name) =>
        (name.StartsWith("Ferry.Api.", StringComparison.Ordinal) ? typeof(Ferry.Api.Scheduling.SchedulerOptions).Assembly : typeof(Ferry.Agent.AgentOptions).Assembly)
            .GetType(name, throwOnError: true)!;

    private static IEnumerable<(string Method, int Id)> LoggerMessages(Assembly assembly) =>
        assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .Select(m => ($"{m.Method.DeclaringType!.FullName}.{m.Method.Name}", m.Attribute!.EventId));

    [GeneratedRegex(@"EventId\s*=\s*\d")]
    private static partial Regex LiteralEventId();
}
