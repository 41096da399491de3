namespace Ferry.Agent.Probe;

/// <summary>
/// Counts the sequence numbers of one stream as they arrive: distinct, duplicate and reordered
/// arrivals, and the longest interval between consecutive arrivals. Sequence numbers start at 0.
/// Not thread-safe: one receive loop owns it (see <see cref="FrameSink"/>).
/// </summary>
public sealed class SequenceRecorder
{
    /// <summary>Sequence numbers at or above this are counted as foreign, so a hostile frame cannot make the bitmap huge.</summary>
    public const ulong MaximumSequence = 1UL << 32;

    private readonly TimeProvider _time;
    private ulong[] _seen = new ulong[1024];
    private long _received;
    private long _duplicates;
    private long _reordered;
    private long _foreign;
    private ulong? _highest;
    private long _firstArrival;
    private long _lastArrival;
    private TimeSpan _longestGap;
    private ulong? _lastBeforeLongestGap;
    private ulong _lastSequence;

    public SequenceRecorder(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>Arrivals whose sequence number was out of range.</summary>
    public long Foreign => _foreign;

    /// <summary>Distinct sequence numbers so far.</summary>
    public long Received => _received;

    /// <summary>Records the arrival of <paramref name="sequence"/> now.</summary>
    public void Record(ulong sequence)
    {
        if (sequence >= MaximumSequence)
        {
            _foreign++;
            return;
        }

        var now = _time.GetTimestamp();
        if (_received + _duplicates == 0)
        {
            _firstArrival = now;
        }
        else
        {
            var gap = _time.GetElapsedTime(_lastArrival, now);
            if (gap > _longestGap)
            {
                _longestGap = gap;
                _lastBeforeLongestGap = _lastSequence;
            }
        }

        _lastArrival = now;
        _lastSequence = sequence;

        var word = (int)(sequence >> 6);
        if (word >= _seen.Length)
        {
            Array.Resize(ref _seen, Math.Max(word + 1, _seen.Length * 2));
        }

        var bit = 1UL << (int)(sequence & 63);
        if ((_seen[word] & bit) != 0)
        {
            _duplicates++;
            return;
        }

        _seen[word] |= bit;
        _received++;
        if (_highest is { } highest && sequence < highest)
        {
            _reordered++;
        }
        else
        {
            _highest = sequence;
        }
    }

    /// <summary>
    /// The report so far. With <paramref name="sent"/> (the generator's count) trailing losses count
    /// too; without it, frames after the highest arrival are not known to be missing.
    /// </summary>
    public ProbeReport Report(long? sent = null)
    {
        var expected = sent ?? (_highest is { } highest ? (long)highest + 1 : 0);
        var span = _received + _duplicates > 1 ? _time.GetElapsedTime(_firstArrival, _lastArrival) : TimeSpan.Zero;
        return new ProbeReport(expected, _received, _duplicates, _reordered, _longestGap, _lastBeforeLongestGap, span);
    }
}
