using System.Diagnostics;

namespace Ferry.Transfer.Migration;

/// <summary>
/// A token bucket shared by all streams of a migration. The limit can change while a migration
/// runs (a policy, or a test that throttles to force dirty passes and then lifts the limit).
/// </summary>
public sealed class BandwidthLimiter
{
    private readonly Lock _lock = new();
    private long _bytesPerSecond;
    private double _tokens;
    private long _last = Stopwatch.GetTimestamp();

    /// <summary>Creates a limiter; 0 means unlimited.</summary>
    /// <param name="bytesPerSecond">The limit in bytes per second.</param>
    public BandwidthLimiter(long bytesPerSecond = 0) => _bytesPerSecond = bytesPerSecond;

    /// <summary>The limit in bytes per second; 0 means unlimited.</summary>
    public long BytesPerSecond
    {
        get => Volatile.Read(ref _bytesPerSecond);
        set => Volatile.Write(ref _bytesPerSecond, Math.Max(0, value));
    }

    /// <summary>Blocks until <paramref name="bytes"/> may be sent.</summary>
    /// <param name="bytes">Bytes about to be sent.</param>
    public void Acquire(long bytes)
    {
        while (true)
        {
            long rate = BytesPerSecond;
            if (rate == 0)
            {
                return;
            }

            TimeSpan wait;
            lock (_lock)
            {
                long now = Stopwatch.GetTimestamp();
                // A bucket of 50 ms worth of bytes smooths bursts without letting a lifted-then-restored limit overshoot.
                _tokens = Math.Min(_tokens + Stopwatch.GetElapsedTime(_last, now).TotalSeconds * rate, Math.Max(rate / 20.0, bytes));
                _last = now;
                if (_tokens >= bytes)
                {
                    _tokens -= bytes;
                    return;
                }

                wait = TimeSpan.FromSeconds((bytes - _tokens) / rate);
            }

            Thread.Sleep(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait > TimeSpan.FromMilliseconds(20) ? TimeSpan.FromMilliseconds(20) : wait);
        }
    }
}
