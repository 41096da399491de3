namespace Ferry.Lab;

/// <summary>
/// Median and spread of one measurement over a case's migrations. Percentiles interpolate linearly between
/// the closest ranks (numpy's default), so the median of an even count is the mean of the middle two.
/// </summary>
internal sealed record Distribution(int Count, double Min, double Max, double Median, double P90, double Q1, double Q3)
{
    public double InterquartileRange => Q3 - Q1;

    /// <summary>The distribution of the values present, or null when there are none.</summary>
    public static Distribution? Of(IEnumerable<double?> values) => Of(values.OfType<double>());

    public static Distribution? Of(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        return new Distribution(sorted.Length, sorted[0], sorted[^1], Percentile(sorted, 0.5), Percentile(sorted, 0.9),
            Percentile(sorted, 0.25), Percentile(sorted, 0.75));
    }

    /// <summary>The p-quantile (0..1) of values sorted ascending, interpolated between closest ranks.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sorted.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(p);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(p, 1);
        double rank = p * (sorted.Count - 1);
        int below = (int)Math.Floor(rank);
        int above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + ((rank - below) * (sorted[above] - sorted[below]));
    }
}
