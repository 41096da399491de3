using System.Text.RegularExpressions;
using Ferry.Testing;

namespace Ferry.Deploy.Tests.Compose;

/// <summary>What a Dockerfile's final stage sets for the process: its <c>ENV</c> instructions (<c>KEY=value</c> form, unquoted values).</summary>
public static partial class Dockerfile
{
    public static IReadOnlyDictionary<string, string> Environment(string path)
    {
        // Continuation lines joined, comments dropped, then only what follows the last FROM.
        var lines = ContinuedLine().Replace(File.ReadAllText(Path.Combine(Repository.Root, path)), " ")
            .Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var stage = lines.FindLastIndex(l => l.StartsWith("FROM ", StringComparison.OrdinalIgnoreCase));
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(stage + 1).Where(l => l.StartsWith("ENV ", StringComparison.OrdinalIgnoreCase)))
        {
            foreach (var pair in line[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = pair.Split('=', 2);
                env[parts[0]] = parts.Length == 2 ? parts[1] : throw new InvalidDataException($"{path}: ENV {pair} is not KEY=value");
            }
        }

        return env;
    }

    [GeneratedRegex(@"\\\r?\n(\s*#[^\n]*\n)*")]
    private static partial Regex ContinuedLine();
}
