using System.Globalization;

namespace Ferry.EndToEnd.Tests;

/// <summary>The machine's 2 MiB hugepage pool, which scripts/hugepages.sh raises and never lowers.</summary>
public static class Hugepages
{
    private const string Pool = "/sys/kernel/mm/hugepages/hugepages-2048kB";

    /// <summary>The reservation (nr_hugepages).</summary>
    public static long Reserved => Read("nr_hugepages");

    /// <summary>
    /// Lowers the reservation from <paramref name="after"/> back to <paramref name="before"/>, as make run does
    /// when it stops: only when it is still <paramref name="after"/> and nobody holds or has reserved a page.
    /// </summary>
    public static bool GiveBack(long before, long after)
    {
        if (after <= before || Reserved != after || Read("free_hugepages") != after || Read("resv_hugepages") != 0)
        {
            return false;
        }

        File.WriteAllText(Path.Combine(Pool, "nr_hugepages"), before.ToString(CultureInfo.InvariantCulture));
        return true;
    }

    private static long Read(string name) =>
        long.Parse(File.ReadAllText(Path.Combine(Pool, name)).Trim(), CultureInfo.InvariantCulture);
}
