using System.Text.RegularExpressions;

namespace Ferry.Agent.Ovs;

/// <summary>
/// Bridge and port names are <c>[a-z0-9-]{1,15}</c>. Lower-case letters, digits and dashes cannot
/// break an <c>ovs-vsctl</c> argument (no <c>,</c> <c>=</c> <c>:</c>), a path (no <c>/</c> or <c>.</c>,
/// and the vhost-user socket is named after the port) or a log line. Fifteen is the kernel's
/// IFNAMSIZ (16 with the NUL): a <c>datapath_type=netdev</c> bridge gets a tap device of its name,
/// and OVS 3.1 silently truncates a longer one (a 16-character bridge became a 15-character tap here),
/// so two bridges could fight over one device. vhost-user ports are not kernel devices, but one rule
/// for both keeps ports movable to kernel-backed types and socket paths well under 108 bytes.
/// </summary>
public static partial class OvsName
{
    public const int MaxLength = 15;

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    /// <exception cref="ArgumentException">The name does not match <c>[a-z0-9-]{1,15}</c>.</exception>
    public static string Validate(string? name, string what)
    {
        if (!IsValid(name))
        {
            throw new ArgumentException($"OVS {what} name must match [a-z0-9-]{{1,{MaxLength}}}; got '{Printable(name)}'.", what);
        }

        return name!;
    }

    private static string Printable(string? name) =>
        name is null ? "(null)" : new string(name.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    [GeneratedRegex(@"^[a-z0-9-]{1,15}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
