using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Ferry.Agent.Qemu;

namespace Ferry.Agent.Migration;

/// <summary>
/// Migration ids come from the API (GUIDs) and end up in file names (the result outbox) and QEMU
/// instance names, so they are checked like any other name before use.
/// </summary>
public static partial class MigrationId
{
    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    public static string Validate(string? id) =>
        IsValid(id) ? id! : throw new ArgumentException("migration_id must match [A-Za-z0-9-]{1,64}.", nameof(id));

    /// <summary>
    /// The QEMU instance of a migration's target: the guest's name plus a digest of the id, so a
    /// target never collides with the guest's other incarnations on the same machine.
    /// </summary>
    public static string TargetInstance(string guest, string migrationId)
    {
        ResourceName.Validate(guest, "guest");
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Validate(migrationId))))[..8];
        var prefix = guest.Length > 50 ? guest[..50] : guest;
        return $"{prefix}-in-{digest}";
    }

    [GeneratedRegex("^[A-Za-z0-9-]{1,64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
