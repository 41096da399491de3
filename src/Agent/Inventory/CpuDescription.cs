namespace Ferry.Agent.Inventory;

/// <summary>The CPU as /proc/cpuinfo describes it: the first processor's model and flags, and how many processors there are.</summary>
internal sealed record CpuDescription(string Model, IReadOnlyList<string> Flags, int Count)
{
    public static CpuDescription Parse(string cpuinfo)
    {
        string? model = null;
        string[]? flags = null;
        var count = 0;
        foreach (var line in cpuinfo.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "processor":
                    count++;
                    break;
                case "model name":
                    model ??= value;
                    break;
                case "flags":
                    flags ??= value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    break;
            }
        }

        return new CpuDescription(model ?? "unknown", [.. (flags ?? []).Order(StringComparer.Ordinal)], count);
    }
}
