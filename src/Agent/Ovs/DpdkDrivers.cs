namespace Ferry.Agent.Ovs;

/// <summary>
/// DPDK built as shared libraries (Debian's) loads its drivers from a plugin directory
/// (<c>/usr/lib/&lt;triplet&gt;/dpdk/pmds-&lt;ABI&gt;</c>), and the ring mempool driver is one of them,
/// packaged apart (<c>librte-mempool-ring23</c>, only recommended by <c>dpdk</c>). Without it every
/// mempool OVS creates fails with EINVAL ("Failed to create mempool ... Invalid argument") the moment a
/// guest's vhost-user NIC comes up, and that NIC gets no backend: the guest forwards nothing and nothing
/// says why. Checked before ovs-vswitchd starts, so the switch refuses to start and says so instead.
/// </summary>
internal static class DpdkDrivers
{
    private const string RingMempoolDriver = "librte_mempool_ring.so";

    /// <summary>Why DPDK could create no mempool here, or null when the ring driver is present (or the layout is not Debian's, which is not judged).</summary>
    /// <param name="libraryRoot">Where the plugin directories are looked for; <c>/usr/lib</c> on a host.</param>
    public static string? MissingMempoolDriver(string libraryRoot = "/usr/lib")
    {
        if (!Directory.Exists(libraryRoot))
        {
            return null;
        }

        var pluginDirectories = Directory.EnumerateDirectories(libraryRoot)
            .Select(triplet => Path.Combine(triplet, "dpdk"))
            .Where(Directory.Exists)
            .SelectMany(dpdk => Directory.EnumerateDirectories(dpdk, "pmds-*"))
            .ToList();
        if (pluginDirectories.Count == 0)
        {
            return null;
        }

        return pluginDirectories.Any(d => Directory.EnumerateFiles(d, RingMempoolDriver + "*").Any())
            ? null
            : $"DPDK has no ring mempool driver ({RingMempoolDriver} in none of {string.Join(", ", pluginDirectories)}; Debian package librte-mempool-ring23, " +
              "installed by scripts/install-deps.sh): OVS could create no mempool, and every vhost-user port would get no backend";
    }
}
