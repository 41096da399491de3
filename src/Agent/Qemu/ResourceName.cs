using System.Text.RegularExpressions;

namespace Ferry.Agent.Qemu;

/// <summary>
/// Names that reach QEMU options, OVS and the file system (guests, instances, ports) are short
/// lower-case <c>[a-z0-9-]</c>: no comma, no slash, no dot, no NUL, so they can neither inject an
/// option nor escape a directory.
/// </summary>
public static partial class ResourceName
{
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    public static string Validate(string? name, string what)
    {
        if (!IsValid(name))
        {
            throw new ArgumentException($"{what} must match [a-z0-9-]{{1,63}}; got '{Printable(name)}'.", what);
        }

        return name!;
    }

    private static string Printable(string? name) =>
        name is null ? "(null)" : new string(name.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    [GeneratedRegex(@"^[a-z0-9-]{1,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
