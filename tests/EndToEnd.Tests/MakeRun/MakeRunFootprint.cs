using System.Globalization;
using Ferry.Testing;

namespace Ferry.EndToEnd.Tests.MakeRun;

/// <summary>
/// What make run holds on this machine, read from the kernel's view rather than from make run's own
/// bookkeeping: processes (its session's, and any whose command line names the repository's .ferry or
/// its API), network namespaces and links, listening ports, RAM and hugetlbfs files of the hosts' guests,
/// sockets under .ferry, and the 2 MiB hugepage reservation.
/// </summary>
public sealed record MakeRunFootprint(
    IReadOnlyList<string> Processes,
    IReadOnlyList<string> Namespaces,
    IReadOnlyList<string> Links,
    IReadOnlyList<int> ListeningPorts,
    IReadOnlySet<string> GuestFiles,
    IReadOnlyList<string> Sockets,
    long Hugepages)
{
    public static MakeRunFootprint Capture(int session, MakeRunPlace place)
    {
        ArgumentNullException.ThrowIfNull(place);
        var root = Repository.Root;
        string[] owned = [Path.Combine(root, ".ferry") + "/", Path.Combine(root, "src", "Api")];
        var processes = ProcessTable.Snapshot()
            .Where(p => p.Session == session || owned.Any(o => p.CommandLine.Contains(o, StringComparison.Ordinal)))
            .Select(p => $"{p.Pid} {p.CommandLine}")
            .ToList();
        return new MakeRunFootprint(
            processes,
            place.Namespaces.Where(n => File.Exists(Path.Combine("/run/netns", n))).ToList(),
            place.Links.Where(l => Directory.Exists(Path.Combine("/sys/class/net", l))).ToList(),
            place.Ports.Where(IsListening).ToList(),
            GuestFileSet(place),
            SocketsUnder(Path.Combine(root, ".ferry")),
            long.Parse(File.ReadAllText("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages").Trim(), CultureInfo.InvariantCulture));
    }

    /// <summary>What this footprint holds that <paramref name="before"/> did not: each a line saying what and where.</summary>
    public IReadOnlyList<string> LeftSince(MakeRunFootprint before)
    {
        ArgumentNullException.ThrowIfNull(before);
        var left = new List<string>();
        left.AddRange(Processes.Select(p => "process " + p));
        left.AddRange(Namespaces.Select(n => "network namespace " + n));
        left.AddRange(Links.Select(l => "link " + l));
        left.AddRange(ListeningPorts.Select(p => "a listener on port " + p.ToString(CultureInfo.InvariantCulture)));
        left.AddRange(GuestFiles.Except(before.GuestFiles).Order(StringComparer.Ordinal).Select(f => "file " + f));
        left.AddRange(Sockets.Select(s => "socket " + s));
        if (Hugepages != before.Hugepages)
        {
            left.Add($"the hugepage reservation: {Hugepages} x 2 MiB, {before.Hugepages} before make run");
        }

        return left;
    }

    /// <summary>Every file and directory of the hosts' guests: the hosts' RAM directories and what is in them, recursively.</summary>
    private static HashSet<string> GuestFileSet(MakeRunPlace place)
    {
        var files = new HashSet<string>(StringComparer.Ordinal);
        foreach (var top in place.RamDirectories.Where(Directory.Exists))
        {
            files.Add(top);
            files.UnionWith(Directory.EnumerateFileSystemEntries(top, "*", SearchOption.AllDirectories));
        }

        return files;
    }

    /// <summary>Socket files under <paramref name="directory"/> (QMP, OVS, vhost-user), as find(1) sees them: .NET has no file-type query.</summary>
    private static List<string> SocketsUnder(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return [.. Programs.Run("find", directory, "-type", "s").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>A socket in state LISTEN on <paramref name="port"/> in this network namespace (/proc/net/tcp and tcp6).</summary>
    internal static bool IsListening(int port)
    {
        var hexPort = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        return new[] { "/proc/net/tcp", "/proc/net/tcp6" }.Where(File.Exists).SelectMany(File.ReadLines)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Any(f => f.Length > 3 && f[1].EndsWith(hexPort, StringComparison.Ordinal) && f[3] == "0A");
    }
}
