using System.Globalization;

namespace Ferry.Agent.Inventory;

/// <summary>The lines of /proc/meminfo the inventory reports, in MiB.</summary>
internal sealed record MemorySummary(long TotalMiB, long FreeMiB, long AvailableMiB)
{
    public static MemorySummary Parse(string meminfo)
    {
        var kib = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in meminfo.Split('\n'))
        {
            // "MemAvailable:   21250128 kB"
            var parts = line.Split([':', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                kib[parts[0]] = value;
            }
        }

        long MiB(string key) => kib.TryGetValue(key, out var value) ? value / 1024 : 0;
        return new MemorySummary(MiB("MemTotal"), MiB("MemFree"), MiB("MemAvailable"));
    }
}
