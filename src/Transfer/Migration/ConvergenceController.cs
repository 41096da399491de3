using System.Globalization;

namespace Ferry.Transfer.Migration;

/// <summary>
/// Decides when to switch over: only when the pages still dirty, at the bandwidth measured on
/// the live passes, are predicted to cross within the downtime budget, and not while passes
/// still shrink the dirty set. Fitting the budget is the floor, not the aim: a guest with a
/// hot set (a packet forwarder) leaves its whole hot set dirty after the first pass, half of it
/// after a pass over just that set, and so on down to what it dirties in one round trip; each
/// such pass costs milliseconds of total time and takes pages out of the downtime. Bandwidth is
/// taken from passes big enough to measure it (a handful of pages measures only the round trip).
/// </summary>
public sealed class ConvergenceController
{
    private const long MinimumMeasuredBytes = 256 * 1024;

    /// <summary>Another pass is worth it while the dirty set is at most this fraction of the one before.</summary>
    private const double ShrinkFactor = 0.75;

    /// <summary>Passes taken only to shrink a dirty set that already fits the budget, at most.</summary>
    private const int MaxShrinkPasses = 12;

    private readonly TimeSpan _budget;
    private readonly TimeSpan _completionTimeout;
    private readonly TimeProvider _time;
    private readonly long _start;
    private long _lastScan;
    private long _lastPending = long.MaxValue;
    private int _shrinkPasses;

    /// <summary>Creates a controller and starts its clock.</summary>
    /// <param name="downtimeBudget">Longest acceptable final transfer.</param>
    /// <param name="completionTimeout">Give up after this long without switching over.</param>
    /// <param name="time">The clock.</param>
    public ConvergenceController(TimeSpan downtimeBudget, TimeSpan completionTimeout, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _budget = downtimeBudget;
        _completionTimeout = completionTimeout;
        _time = time;
        _start = time.GetTimestamp();
        _lastScan = _start;
    }

    /// <summary>Bandwidth in bytes per second; 0 until a pass was measured.</summary>
    public double Bandwidth { get; private set; }

    /// <summary>Dirty rate in bytes per second, from the last scan.</summary>
    public double DirtyRate { get; private set; }

    /// <summary>Predicted duration of the final transfer at the last decision.</summary>
    public TimeSpan PredictedFinal { get; private set; }

    /// <summary>Why the controller gave up, once it did.</summary>
    public string? GiveUpReason { get; private set; }

    /// <summary>Records a finished pass.</summary>
    /// <param name="bytes">Bytes of the pages the pass read (the unit <see cref="Decide"/> is given the dirty set in).</param>
    /// <param name="duration">Time from its first byte to its last acknowledgement.</param>
    public void RecordPass(long bytes, TimeSpan duration)
    {
        if ((bytes >= MinimumMeasuredBytes || Bandwidth == 0) && bytes > 0 && duration > TimeSpan.Zero)
        {
            double measured = bytes / duration.TotalSeconds;
            // Follow changes (a lifted limit) quickly but not on a single noisy pass.
            Bandwidth = Bandwidth == 0 ? measured : 0.5 * Bandwidth + 0.5 * measured;
        }
    }

    /// <summary>Records a dirty scan and decides.</summary>
    /// <param name="pendingBytes">Bytes of the pages the scan found dirty.</param>
    public ConvergenceDecision Decide(long pendingBytes)
    {
        long now = _time.GetTimestamp();
        var interval = _time.GetElapsedTime(_lastScan, now);
        _lastScan = now;
        if (interval > TimeSpan.Zero)
        {
            DirtyRate = pendingBytes / interval.TotalSeconds;
        }

        PredictedFinal = pendingBytes == 0 ? TimeSpan.Zero
            : Bandwidth > 0 ? TimeSpan.FromSeconds(pendingBytes / Bandwidth)
            : TimeSpan.MaxValue;
        bool shrinking = pendingBytes > 0 && pendingBytes <= _lastPending * ShrinkFactor;
        _lastPending = pendingBytes;
        if (PredictedFinal <= _budget)
        {
            if (shrinking && _shrinkPasses < MaxShrinkPasses)
            {
                _shrinkPasses++;
                return ConvergenceDecision.Continue;
            }

            return ConvergenceDecision.SwitchOver;
        }

        var elapsed = _time.GetElapsedTime(_start, now);
        if (elapsed >= _completionTimeout)
        {
            GiveUpReason = string.Create(CultureInfo.InvariantCulture,
                $"did not converge within {_completionTimeout.TotalSeconds:0.#} s: {pendingBytes / 1048576.0:0.#} MiB still dirty, " +
                $"dirty rate {DirtyRate / 1048576.0:0.#} MiB/s against {Bandwidth / 1048576.0:0.#} MiB/s bandwidth, " +
                $"predicted final transfer {PredictedFinal.TotalMilliseconds:0.#} ms over the {_budget.TotalMilliseconds:0.#} ms budget");
            return ConvergenceDecision.GiveUp;
        }

        return ConvergenceDecision.Continue;
    }
}
