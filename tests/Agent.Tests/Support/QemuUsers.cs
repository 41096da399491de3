using System.Globalization;
using Ferry.Agent.Qemu;

namespace Ferry.Agent.Tests.Support;

/// <summary>The user QEMU drops to by default (<c>Ferry:Qemu:RunAs</c>), and what the kernel says a process runs as.</summary>
internal static class QemuUsers
{
    /// <summary>
    /// The default run-as user. Skips when the tests do not run as root (nothing can drop then); fails
    /// when root has no such user: <c>make deps</c> (scripts/install-deps.sh) creates it, and without it
    /// every QEMU of the suite would quietly run as root.
    /// </summary>
    public static QemuUser Default()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Skip("QEMU drops to another user only when its agent runs as root");
        }

        var name = new QemuLauncherOptions().RunAs;
        return QemuUser.Find(name) ?? throw new Xunit.Sdk.XunitException($"No user '{name}' on this machine: run scripts/install-deps.sh (make deps), which creates it.");
    }

    /// <summary>Real, effective, saved and file-system uid and gid of <paramref name="pid"/> are all <paramref name="user"/>'s (<c>/proc/PID/status</c>).</summary>
    public static void AssertRunsAs(int pid, QemuUser user)
    {
        var status = File.ReadAllLines($"/proc/{pid}/status").Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.All(status["Uid"], uid => Assert.Equal(user.Uid.ToString(CultureInfo.InvariantCulture), uid));
        Assert.All(status["Gid"], gid => Assert.Equal(user.Gid.ToString(CultureInfo.InvariantCulture), gid));
    }
}
