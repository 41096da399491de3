using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Ferry.Domain;

/// <summary>
/// Names of hosts, guests and ports. They end up in file paths, OVS interface names and QEMU
/// option values, so only <c>[a-z0-9-]{1,63}</c> is accepted: nothing that could be a path
/// separator, a QEMU option separator (<c>,</c>) or a shell metacharacter.
/// </summary>
public static partial class Names
{
    /// <summary>The longest name accepted.</summary>
    public const int MaxLength = 63;

    /// <summary>The accepted pattern, for documentation and OpenAPI.</summary>
    public const string Pattern = "^[a-z0-9-]{1,63}$";

    /// <summary>Whether <paramref name="name"/> is an acceptable name.</summary>
    public static bool IsValid([NotNullWhen(true)] string? name) => name is not null && NameRegex().IsMatch(name);

    /// <summary>A human-readable reason why <paramref name="name"/> is refused, or null when it is valid.</summary>
    public static string? Explain(string? name) => name switch
    {
        null or "" => "is required",
        { Length: > MaxLength } => $"must be at most {MaxLength} characters",
        _ when !IsValid(name) => "may contain only lowercase letters, digits and '-'",
        _ => null,
    };

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();
}
