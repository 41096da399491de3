using System.Runtime.CompilerServices;
using Ferry.Agent.Migration.Transports;
using Ferry.Agent.Probe;
using Ferry.Contracts;

namespace Ferry.Agent.Migration;

/// <summary>
/// One migration leaving this host, as every Migrate call sees it: a history of progress messages with
/// sequence numbers that only grow, replayed to each reader and then followed live. It outlives the RPC
/// that started it; only <see cref="TryCancel"/> stops it. The history is bounded: past
/// <see cref="SampleLimit"/> samples the oldest go (a migration that never converges would otherwise
/// grow by one every second until it is cancelled), the phase changes and the end always stay; a reader
/// that falls behind sees a gap in the sequence, which the API accepts (it applies samples by sequence).
/// </summary>
public sealed class OutgoingMigration : IMigrationObserver, IDisposable
{
    /// <summary>Samples kept for readers that attach late; four minutes of the native transport's one a second.</summary>
    public const int SampleLimit = 256;

    private readonly Lock _gate = new();
    private readonly List<(MigrationProgress Message, bool Sample)> _history = [];
    private int _samples;
    private ProbeRun? _probe;
    private readonly CancellationTokenSource _cancel = new();
    private readonly Action<MigrationProgress> _published;
    private TaskCompletionSource _changed = NewSignal();
    private long _sequence;
    private MigrationPhase _phase = MigrationPhase.Running;
    private MigrationProgress? _end;
    private bool _sealed;

    public OutgoingMigration(OutgoingMigrationRequest request, Action<MigrationProgress>? published = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        Request = request;
        _published = published ?? (_ => { });
    }

    public OutgoingMigrationRequest Request { get; }

    /// <summary>The network probe measuring this migration, when its policy asked for one.</summary>
    public ProbeRun? Probe { get => _probe; init => _probe = value; }

    public string Id => Request.MigrationId;

    public string Guest => Request.Guest;

    /// <summary>Cancelled by <see cref="TryCancel"/>; the migration loop runs under it.</summary>
    public CancellationToken CancellationToken => _cancel.Token;

    /// <summary>The running migration, set once it started; completes after the end was published.</summary>
    public Task Completion { get; internal set; } = Task.CompletedTask;

    /// <summary>The terminal message, once there is one.</summary>
    public MigrationProgress? End
    {
        get
        {
            lock (_gate)
            {
                return _end;
            }
        }
    }

    public bool IsOver => End is not null;

    /// <summary>True once the guest was paused for switch-over: from there cancelling is too late.</summary>
    public bool IsSwitchingOver
    {
        get
        {
            lock (_gate)
            {
                return _phase >= MigrationPhase.SwitchingOver;
            }
        }
    }

    /// <summary>A sample while pages move; labelled with the phase reached so far.</summary>
    public void Report(TransportProgress sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        PublishPhase(null, phase => new MigrationProgress
        {
            Phase = phase,
            Pass = sample.Pass,
            TransferredBytes = sample.TransferredBytes,
            RemainingBytes = sample.RemainingBytes,
            TotalBytes = sample.TotalBytes,
            DirtyPagesPerSecond = sample.DirtyPagesPerSecond,
            ThroughputMbps = sample.ThroughputMbps,
        });
    }

    /// <summary>The source paused the guest (QEMU's STOP event or its completed state); published once.</summary>
    public void SwitchingOver() => PublishPhase(MigrationPhase.SwitchingOver, phase => new MigrationProgress { Phase = phase });

    /// <summary>The target confirmed it runs; the deferred source cleanup starts. Published once.</summary>
    public void CleaningUp()
    {
        SwitchingOver();
        PublishPhase(MigrationPhase.CleaningUp, phase => new MigrationProgress { Phase = phase });
    }

    /// <summary>
    /// Requests the cancel; false once the guest was paused for switch-over or the migration is
    /// over, when a cancel can no longer keep the guest where it was.
    /// </summary>
    public bool TryCancel()
    {
        lock (_gate)
        {
            if (_sealed || _phase >= MigrationPhase.SwitchingOver)
            {
                return false;
            }
        }

        _cancel.Cancel();
        return true;
    }

    /// <summary>
    /// Numbers the terminal message; after this no sample is published, so the number it gets is
    /// the last. The caller persists it before <see cref="Finish"/> makes it visible.
    /// </summary>
    public MigrationProgress Seal(MigrationProgress end)
    {
        ArgumentNullException.ThrowIfNull(end);
        lock (_gate)
        {
            _sealed = true;
            end.MigrationId = Id;
            end.Sequence = ++_sequence;
            return end;
        }
    }

    public void Finish(MigrationProgress end)
    {
        ArgumentNullException.ThrowIfNull(end);
        TaskCompletionSource changed;
        lock (_gate)
        {
            _end = end;
            _history.Add((end, false));
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    /// <summary>Messages kept for readers: the retained samples, the phase changes and the end.</summary>
    public int Retained
    {
        get
        {
            lock (_gate)
            {
                return _history.Count;
            }
        }
    }

    /// <summary>
    /// Once the API has the result, nothing but the end is worth keeping: a late reader (a Migrate retried
    /// after the API restarted) learns the end, and a cancel learns it came too late. Drops the samples and
    /// the probe's records; no-op while the migration runs.
    /// </summary>
    public void Compact()
    {
        lock (_gate)
        {
            if (_end is not { } end)
            {
                return;
            }

            _history.Clear();
            _history.Add((end, false));
            _samples = 0;
            _probe = null;
        }
    }

    /// <summary>Everything kept so far, then what comes, until the end.</summary>
    public async IAsyncEnumerable<MigrationProgress> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // By sequence, not by position: samples may leave the history between two reads.
        var read = 0L;
        while (true)
        {
            MigrationProgress? item = null;
            Task changed;
            lock (_gate)
            {
                if (FirstAfter(read) is { } next)
                {
                    item = next;
                    read = next.Sequence;
                }
                else if (_end is not null)
                {
                    yield break;
                }

                changed = _changed.Task;
            }

            if (item is not null)
            {
                yield return item;
                continue;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    public void Dispose() => _cancel.Dispose();

    private MigrationProgress? FirstAfter(long sequence)
    {
        // Sorted by sequence and a few hundred long at most.
        int low = 0, high = _history.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_history[middle].Message.Sequence <= sequence)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low < _history.Count ? _history[low].Message : null;
    }

    private void Append(MigrationProgress message, bool sample)
    {
        _history.Add((message, sample));
        if (!sample || ++_samples <= SampleLimit)
        {
            return;
        }

        _history.RemoveAt(_history.FindIndex(m => m.Sample));
        _samples--;
    }

    private void PublishPhase(MigrationPhase? reached, Func<MigrationPhase, MigrationProgress> create)
    {
        MigrationProgress message;
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (_sealed || (reached is { } phase && _phase >= phase))
            {
                return;
            }

            if (reached is { } newPhase)
            {
                _phase = newPhase;
            }

            message = create(_phase);
            message.MigrationId = Id;
            message.Sequence = ++_sequence;
            Append(message, sample: reached is null);
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
        if (reached is not null && Probe is { } probe)
        {
            // The probe's window is the switch-over: from the pause to the guest running at the target.
            if (message.Phase >= MigrationPhase.SwitchingOver)
            {
                probe.OpenWindow();
            }

            if (message.Phase >= MigrationPhase.CleaningUp)
            {
                probe.CloseWindow();
            }
        }

        _published(message);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
