namespace Ferry.Cli.Rest;

/// <summary>
/// The API key the CLI sends, and where it came from (named in errors, never the key itself). The API's own
/// <c>Ferry.Api.Security.ApiKey</c> is one configured client.
/// </summary>
/// <param name="Value">The key; null when none was found (the API then answers 401, unless it runs open).</param>
/// <param name="Source">Where it was found: <c>FERRY_API_KEY</c>, or a file's path.</param>
internal sealed record CliApiKey(string? Value, string Source)
{
    public const string Variable = "FERRY_API_KEY";
    public const string FileVariable = "FERRY_API_KEY_FILE";

    /// <summary>Where <c>make run</c> writes its admin key, relative to the repository's root.</summary>
    public const string MakeRunKeyFile = ".ferry/api-key";

    /// <summary>
    /// <c>FERRY_API_KEY</c>; else the file <c>FERRY_API_KEY_FILE</c> names; else <c>.ferry/api-key</c>
    /// in <paramref name="workingDirectory"/> or the nearest directory above it that has one (so it
    /// is found anywhere inside the checkout where <c>make run</c> runs). Not a command-line option:
    /// arguments are visible to every user in <c>ps</c>.
    /// </summary>
    public static CliApiKey Find(Func<string, string?> environment, string workingDirectory)
    {
        if (environment(Variable) is { Length: > 0 } key)
        {
            return new(key.Trim(), Variable);
        }

        if (environment(FileVariable) is { Length: > 0 } file)
        {
            return File.Exists(file) ? new(File.ReadAllText(file).Trim(), file) : new(null, file);
        }

        for (var dir = new DirectoryInfo(workingDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, MakeRunKeyFile);
            if (File.Exists(candidate))
            {
                return new(File.ReadAllText(candidate).Trim(), candidate);
            }
        }

        return new(null, "nowhere");
    }
}
