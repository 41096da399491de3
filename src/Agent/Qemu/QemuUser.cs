namespace Ferry.Agent.Qemu;

/// <summary>The unprivileged user QEMU drops to (<c>-runas</c>), looked up in the system's user database.</summary>
public sealed record QemuUser(string Name, uint Uid, uint Gid)
{
    /// <summary>The user called <paramref name="name"/>, from /etc/passwd; null when there is none.</summary>
    public static QemuUser? Find(string name, string passwd = "/etc/passwd")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!File.Exists(passwd))
        {
            return null;
        }

        foreach (var line in File.ReadLines(passwd))
        {
            var fields = line.Split(':');
            if (fields.Length >= 4 && fields[0] == name
                && uint.TryParse(fields[2], System.Globalization.CultureInfo.InvariantCulture, out var uid)
                && uint.TryParse(fields[3], System.Globalization.CultureInfo.InvariantCulture, out var gid))
            {
                return new QemuUser(name, uid, gid);
            }
        }

        return null;
    }
}
