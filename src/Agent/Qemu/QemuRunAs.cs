namespace Ferry.Agent.Qemu;

/// <summary>
/// Who QEMU runs as, decided once when the agent starts from <c>Ferry:Qemu:RunAs</c> and what the machine
/// allows: <see cref="User"/> when QEMU drops to that user (<c>-runas</c>), null when it runs as the
/// agent's own user, with <see cref="Problem"/> saying why when a user was asked for and cannot be had.
/// </summary>
/// <param name="User">The user QEMU drops to; null when it keeps the agent's.</param>
/// <param name="Problem">Why the configured user is not used; null when it is, or when none was configured.</param>
public sealed record QemuRunAs(QemuUser? User, string? Problem)
{
    /// <summary>
    /// The user <paramref name="options"/> asks for, if QEMU can drop to it here: the agent runs as root
    /// (only root can setuid), the user exists, and it can traverse every directory above
    /// <c>Ferry:Qemu:RunDirectory</c> (QEMU reopens its boot disk there by path after it dropped).
    /// </summary>
    public static QemuRunAs Resolve(QemuLauncherOptions options, string passwd = "/etc/passwd", bool? privileged = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.RunAs.Length == 0)
        {
            return new QemuRunAs(null, null);
        }

        if (!ResourceName.IsValid(options.RunAs))
        {
            return new QemuRunAs(null, $"Ferry:Qemu:RunAs must match [a-z0-9-]{{1,63}}; got '{options.RunAs}'");
        }

        if (!(privileged ?? Environment.IsPrivilegedProcess))
        {
            return new QemuRunAs(null, $"the agent does not run as root, and only root can make QEMU drop to another user (-runas); QEMU runs as the agent's user ({Environment.UserName})");
        }

        if (QemuUser.Find(options.RunAs, passwd) is not { } user)
        {
            return new QemuRunAs(null, $"Ferry:Qemu:RunAs names no user of this machine ('{options.RunAs}' is not in {passwd}; scripts/install-deps.sh creates ferry-qemu)");
        }

        if (BlockingAncestor(options.RunDirectory, user) is { } blocked)
        {
            return new QemuRunAs(null, $"user {user.Name} cannot reach Ferry:Qemu:RunDirectory {options.RunDirectory}: {blocked} lets no other user through (chmod o+x it, or put the run directory elsewhere)");
        }

        return new QemuRunAs(user, null);
    }

    /// <summary>
    /// The first existing directory above <paramref name="directory"/> (itself included) that
    /// <paramref name="user"/> may not search; directories not made yet are made by the agent with a
    /// mode it chooses. Null when the way is open.
    /// </summary>
    internal static string? BlockingAncestor(string directory, QemuUser user)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // The run directory itself is the agent's: it opens it for search when it launches a QEMU.
        for (var current = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))); current is not null; current = Path.GetDirectoryName(current))
        {
            var info = new DirectoryInfo(current);
            if (!info.Exists)
            {
                continue;
            }

            var mode = info.UnixFileMode;
            if ((mode & UnixFileMode.OtherExecute) != 0)
            {
                continue;
            }

            // Owner and group are not exposed by .NET; a directory closed to others is taken as closed, the
            // safe reading (a group grant for this user would only make this more cautious than needed).
            return $"{current} (mode {Convert.ToString((int)mode, 8)})";
        }

        return null;
    }
}
