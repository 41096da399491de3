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
    private long? _windowStart;
    private long? _windowEnd;
    private TimeSpan? _windowGap;
    private long _windowGapLost;
    private long _arrivalsAfterWindow;

    public SequenceRecorder(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>Arrivals whose sequence number was out of range.</summary>
    public long Foreign => _foreign;

    /// <summary>Distinct sequence numbers so far.</summary>
    public long Received => _received;

    /// <summary>
    /// Opens the window of interest at <paramref name="timestamp"/> (a <see cref="TimeProvider"/> timestamp),
    /// e.g. the moment a migrating guest was paused: from then on the longest gap between consecutive arrivals
    /// that overlaps the window is tracked apart (<see cref="ProbeReport.WindowGap"/>). Only the first call counts.
    /// </summary>
    public void OpenWindow(long timestamp) => _windowStart ??= timestamp;

    /// <summary>
    /// Closes the window at <paramref name="timestamp"/>, e.g. when the guest runs at its destination. A gap
    /// that began before it still counts when it ends later: the stream resuming at the destination ends it.
    /// </summary>
    public void CloseWindow(long timestamp)
    {
        _windowStart ??= timestamp;
        _windowEnd ??= timestamp;
    }

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

            if (_windowStart is { } opened && now >= opened && (_windowEnd is not { } closed || _lastArrival <= closed) && gap > (_windowGap ?? TimeSpan.MinValue))
            {
                _windowGap = gap;

                // The stream is sent in sequence order: what the gap swallowed lies between its two ends.
                _windowGapLost = sequence > _lastSequence ? (long)(sequence - _lastSequence - 1) : 0;
            }
        }

        if (_windowEnd is { } end && now > end)
        {
            _arrivalsAfterWindow++;
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
        return new ProbeReport(expected, _received, _duplicates, _reordered, _longestGap, _lastBeforeLongestGap, span)
        {
            WindowGap = _windowGap,
            WindowGapLost = _windowGapLost,
            ArrivalsAfterWindow = _arrivalsAfterWindow,
        };
    }
}
