using Ferry.Domain.Hosts;

namespace Ferry.Domain.Placement;

/// <summary>The chosen target, or why no host fits.</summary>
/// <param name="Target">The chosen host; null when none fits.</param>
/// <param name="Rejections">Each host refused and why, by host name.</param>
public sealed record PlacementDecision(Host? Target, IReadOnlyDictionary<string, string> Rejections)
{
    /// <summary>One sentence saying why no host fits, for a failure reason.</summary>
    public string Explain() => Target is not null
        ? $"placed on {Target.Name}"
        : Rejections.Count == 0
            ? "no target host: there is no other host"
            : "no target host fits: " + string.Join("; ", Rejections.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}: {r.Value}"));
}
