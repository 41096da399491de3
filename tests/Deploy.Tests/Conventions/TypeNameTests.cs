using System.Xml.Linq;
using Ferry.Testing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ferry.Deploy.Tests.Conventions;

/// <summary>
/// One name per concept: a type name is declared once in the solution, so a name says its layer
/// (<c>QmpMigrationStatus</c> is what QEMU reports, the Domain's <c>MigrationState</c> is Ferry's). Reads the
/// sources of every project in Ferry.slnx with Roslyn's parser (no build needed), outside <c>obj/</c> and
/// <c>bin/</c> (where the generated gRPC code is). Counts namespace-level types: a partial type's declarations
/// in one project and namespace are one type; nested types (a class's <c>Log</c>) are named by their container.
/// </summary>
[Trait("Tier", "fast")]
public sealed class TypeNameTests(ITestOutputHelper output)
{
    [Fact]
    public void No_type_name_is_declared_twice_in_the_solution()
    {
        var types = Projects().SelectMany(TypesOf).ToList();
        Assert.True(types.Count > 100, $"found only {types.Count} types in Ferry.slnx's projects: the parse or the project list is wrong");

        // One entry per type: a partial type's parts (same project, namespace and name) are merged.
        var duplicates = types
            .GroupBy(t => (t.Project, t.FullName))
            .Select(g => (g.Key.Project, g.Key.FullName, g.First().Name, Files: g.Select(t => t.File).Distinct().Order(StringComparer.Ordinal).ToList()))
            .GroupBy(t => t.Name, StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} is declared {g.Count()} times:" + string.Concat(g.OrderBy(t => t.FullName, StringComparer.Ordinal)
                .Select(t => $"{Environment.NewLine}    {t.FullName} ({t.Project}) in {string.Join(", ", t.Files)}")))
            .ToList();
        output.WriteLine($"{types.Count} type declarations read; {duplicates.Count} names declared more than once");
        foreach (var duplicate in duplicates)
        {
            output.WriteLine(duplicate);
        }

        Assert.True(duplicates.Count == 0,
            $"{duplicates.Count} type names are declared more than once; rename so each name says its layer:{Environment.NewLine}{string.Join(Environment.NewLine, duplicates)}");
    }

    [Fact]
    public void The_check_sees_a_name_declared_twice_and_a_partial_type_once()
    {
        // The reader itself, on sources that hold one duplicate, one partial type in two files, and one nested type.
        var first = TypesOf("Sample", "a.cs", "namespace Ferry.A; public sealed partial class Split { private static partial class Log { } } internal enum Twice { One }");
        var second = TypesOf("Sample", "b.cs", "namespace Ferry.A { partial class Split { } } namespace Ferry.B { record Twice(int Value); }");
        var names = first.Concat(second).GroupBy(t => (t.Project, t.FullName)).Select(g => g.First().Name).ToList();
        Assert.Equal(["Split", "Twice", "Twice"], names.Order(StringComparer.Ordinal));
    }

    private static IEnumerable<(string Project, string Directory)> Projects()
    {
        var solution = XDocument.Load(Path.Combine(Repository.Root, "Ferry.slnx"));
        var projects = solution.Descendants("Project").Select(p => (string)p.Attribute("Path")!).ToList();
        Assert.NotEmpty(projects);
        return projects.Select(p => (Path.GetFileNameWithoutExtension(p), Path.Combine(Repository.Root, Path.GetDirectoryName(p)!)));
    }

    private static IEnumerable<TypeDeclaration> TypesOf((string Project, string Directory) project) =>
        Directory.EnumerateFiles(project.Directory, "*.cs", SearchOption.AllDirectories)
            .Where(path => !Path.GetRelativePath(project.Directory, path).Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin"))
            .SelectMany(path => TypesOf(project.Project, Path.GetRelativePath(Repository.Root, path), File.ReadAllText(path)));

    private static IEnumerable<TypeDeclaration> TypesOf(string project, string file, string source)
    {
        var root = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Preview), file).GetCompilationUnitRoot();
        // Descends into namespaces only: a type's own members, nested types among them, are not visited.
        return root.DescendantNodes(node => node is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax)
            .Select(node => (Node: node, Name: NameOf(node)))
            .Where(t => t.Name is not null)
            .Select(t => new TypeDeclaration(project, Namespace(t.Node) + "." + t.Name, t.Name!, file));
    }

    private static string? NameOf(SyntaxNode node) => node switch
    {
        BaseTypeDeclarationSyntax type => type.Identifier.ValueText + Arity((type as TypeDeclarationSyntax)?.TypeParameterList),
        DelegateDeclarationSyntax d => d.Identifier.ValueText + Arity(d.TypeParameterList),
        _ => null,
    };

    // By count, not by the parameters' names: Result<T> and Result<TValue> are one name.
    private static string Arity(TypeParameterListSyntax? parameters) => parameters is { Parameters.Count: > 0 } p ? $"<{new string(',', p.Parameters.Count - 1)}>" : "";

    private static string Namespace(SyntaxNode node) =>
        string.Join(".", node.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().Reverse().Select(n => n.Name.ToString()));

    private sealed record TypeDeclaration(string Project, string FullName, string Name, string File);
}
