namespace Ferry.Transfer.Migration;

/// <summary>
/// The switch-over's point of no return: once every stream's final pass is acknowledged (or the
/// destination says the guest runs) the source is never resumed, and a cancel no longer closes
/// the connections.
/// </summary>
internal sealed class SwitchoverCommit(List<SourceStream> streams)
{
    private readonly Lock _gate = new();
    private int _acknowledged;

    public bool Committed { get; private set; }

    /// <summary>When it committed (a timestamp of the migration's clock).</summary>
    public long At { get; private set; }

    public void Acknowledged(TimeProvider time)
    {
        if (Interlocked.Increment(ref _acknowledged) == streams.Count)
        {
            Set(time.GetTimestamp());
        }
    }

    public void Running(long at) => Set(at);

    public void CancelUnlessCommitted()
    {
        lock (_gate)
        {
            if (Committed)
            {
                return;
            }
        }

        SourceMigration.DisposeAll(streams); // outside the gate: disposing joins stream threads, which may be acknowledging
    }

    private void Set(long at)
    {
        lock (_gate)
        {
            if (!Committed)
            {
                Committed = true;
                At = at;
            }
        }
    }
}
