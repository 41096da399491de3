using System.Text.RegularExpressions;
using Ferry.Testing;

namespace Ferry.Deploy.Tests.Compose;

/// <summary>
/// A Dockerfile read as far as the tests need it (no Docker here): its stages and their instructions, and what the
/// final stage sets for the process (its <c>ENV</c> instructions, <c>KEY=value</c> form, unquoted values).
/// </summary>
public static partial class Dockerfile
{
    public static IReadOnlyDictionary<string, string> Environment(string path)
    {
        var lines = Lines(path);
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

    /// <summary>The stages of the Dockerfile at <paramref name="path"/> (relative to the repository), in order; the last one is the image.</summary>
    public static IReadOnlyList<DockerStage> Stages(string path)
    {
        var stages = new List<DockerStage>();
        foreach (var line in Lines(path))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var keyword = (space < 0 ? line : line[..space]).ToUpperInvariant();
            var arguments = space < 0 ? "" : line[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                var words = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var name = words.Length == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                stages.Add(new DockerStage(words[0], name, new List<DockerInstruction>()));
            }
            else if (stages.Count == 0)
            {
                throw new InvalidDataException($"{path}: {keyword} before the first FROM");
            }
            else
            {
                ((List<DockerInstruction>)stages[^1].Instructions).Add(new DockerInstruction(keyword, arguments));
            }
        }

        return stages.Count > 0 ? stages : throw new InvalidDataException($"{path} has no FROM");
    }

    /// <summary>Instructions one a line: continuation lines joined (comments inside them dropped), comments and blank lines left out.</summary>
    private static List<string> Lines(string path) =>
        ContinuedLine().Replace(File.ReadAllText(Path.Combine(Repository.Root, path)), " ")
            .Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

    [GeneratedRegex(@"\\\r?\n(\s*#[^\n]*\n)*")]
    private static partial Regex ContinuedLine();
}
