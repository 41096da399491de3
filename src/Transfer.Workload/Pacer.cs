using System.Diagnostics;

namespace Ferry.Transfer.Workload;

/// <summary>Spreads work evenly at a target rate (units per second); the runner waits when nothing is due.</summary>
internal sealed class Pacer(double unitsPerSecond)
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private double _done;

    /// <summary>How many units may run now to stay on schedule (0: nothing due yet, wait a little).</summary>
    public long Allowance(long maxBatch)
    {
        if (unitsPerSecond <= 0)
        {
            return maxBatch;
        }

        double due = Stopwatch.GetElapsedTime(_start).TotalSeconds * unitsPerSecond - _done;
        if (due < 1)
        {
            return 0;
        }

        long allowed = (long)Math.Min(due, maxBatch);
        _done += allowed;
        return allowed;
    }
}
