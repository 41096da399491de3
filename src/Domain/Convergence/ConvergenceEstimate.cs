namespace Ferry.Domain.Convergence;

/// <summary>The forecast of a pre-copy migration: whether its final pause fits the downtime budget, and after how many passes.</summary>
/// <param name="Converges">Whether some pass leaves little enough to send within the budget.</param>
/// <param name="Passes">Passes until switch-over, the final stop-and-copy included; when it does not converge, the passes tried.</param>
/// <param name="FinalBytes">Bytes left for the stop-and-copy (when it converges) or after the last pass tried.</param>
/// <param name="PredictedDowntime">Time to send <paramref name="FinalBytes"/> at the given bandwidth.</param>
/// <param name="PredictedTotalTime">All passes and the final transfer.</param>
/// <param name="Reason">Why it does not converge; null when it does.</param>
public sealed record ConvergenceEstimate(
    bool Converges, int Passes, long FinalBytes, TimeSpan PredictedDowntime, TimeSpan PredictedTotalTime, string? Reason)
{
    /// <summary>Passes tried before declaring that a migration will not converge.</summary>
    public const int DefaultMaxPasses = 30;

    /// <summary>
    /// Forecasts pre-copy: each pass sends what is dirty at its start, while the guest keeps
    /// dirtying pages at <paramref name="dirtyBytesPerSecond"/>; the next pass must send what was
    /// dirtied meanwhile (never more than <paramref name="workingSetBytes"/>, the memory the guest
    /// writes at all). Switch-over happens when what is left can be sent within the budget.
    /// </summary>
    /// <param name="bandwidthBytesPerSecond">Measured link throughput.</param>
    /// <param name="dirtyBytesPerSecond">Measured dirty rate.</param>
    /// <param name="remainingBytes">Bytes still to send now.</param>
    /// <param name="downtimeBudget">Longest acceptable pause.</param>
    /// <param name="workingSetBytes">Upper bound of what can be dirty at once; defaults to unbounded.</param>
    /// <param name="maxPasses">Passes tried before giving up.</param>
    public static ConvergenceEstimate Estimate(double bandwidthBytesPerSecond, double dirtyBytesPerSecond,
        long remainingBytes, TimeSpan downtimeBudget, long workingSetBytes = long.MaxValue, int maxPasses = DefaultMaxPasses)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dirtyBytesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(remainingBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPasses, 1);
        if (!(bandwidthBytesPerSecond > 0))
        {
            return new(false, 0, remainingBytes, TimeSpan.MaxValue, TimeSpan.MaxValue, "no bandwidth measured");
        }

        var budgetBytes = bandwidthBytesPerSecond * downtimeBudget.TotalSeconds;
        double left = remainingBytes;
        double elapsed = 0;
        for (var pass = 1; pass <= maxPasses; pass++)
        {
            if (left <= budgetBytes)
            {
                var downtime = left / bandwidthBytesPerSecond;
                return new(true, pass, (long)left, TimeSpan.FromSeconds(downtime), TimeSpan.FromSeconds(elapsed + downtime), null);
            }

            var passTime = left / bandwidthBytesPerSecond;
            elapsed += passTime;
            var next = Math.Min(dirtyBytesPerSecond * passTime, workingSetBytes);
            if (next >= left)
            {
                // The guest dirties at least as fast as the link drains: every pass is as large as the last.
                return new(false, pass, (long)next, TimeSpan.FromSeconds(next / bandwidthBytesPerSecond), TimeSpan.MaxValue,
                    $"dirty rate {dirtyBytesPerSecond / 1e6:F1} MB/s keeps {next / 1e6:F1} MB dirty per pass at {bandwidthBytesPerSecond / 1e6:F1} MB/s; "
                    + $"the downtime budget allows {budgetBytes / 1e6:F2} MB");
            }

            left = next;
        }

        return new(false, maxPasses, (long)left, TimeSpan.FromSeconds(left / bandwidthBytesPerSecond), TimeSpan.MaxValue,
            $"still {left / 1e6:F1} MB dirty after {maxPasses} passes; the downtime budget allows {budgetBytes / 1e6:F2} MB");
    }
}
