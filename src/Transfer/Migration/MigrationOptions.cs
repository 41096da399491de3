namespace Ferry.Transfer.Migration;

/// <summary>How one native migration runs.</summary>
public sealed class MigrationOptions
{
    /// <summary>TCP streams; pages are partitioned across them.</summary>
    public int Streams { get; init; } = 2;

    /// <summary>Switch over only when the final transfer is predicted to take at most this long.</summary>
    public TimeSpan DowntimeBudget { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Give up (the guest keeps running on the source) when not switched over by then.</summary>
    public TimeSpan CompletionTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Give up when a connection makes no progress (no byte sent or acknowledged) for this long.</summary>
    public TimeSpan ProgressTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The bandwidth limit, adjustable while the migration runs.</summary>
    public BandwidthLimiter Bandwidth { get; init; } = new();

    /// <summary>Punch the source RAM file empty in the deferred cleanup (after the guest runs at the target).</summary>
    public bool FreeSourceRam { get; init; } = true;

    /// <summary>
    /// Checks, after the switch-over and before the source is stopped, that every page of the frozen
    /// source RAM equals what was last sent of it (a hash per page kept while sending): a page that
    /// differs was written after its last send without the tracker seeing it, and the migration fails
    /// with the guest at the target. Costs a hash per page sent and a read of the RAM in the deferred
    /// cleanup; for tests and for operators who want the proof.
    /// </summary>
    public bool VerifyRam { get; init; }

    /// <summary>Checks the values; throws on nonsense.</summary>
    public void Validate()
    {
        if (Streams is < 1 or > Protocol.WireFormat.MaxStreams)
        {
            throw new ArgumentOutOfRangeException(nameof(Streams), Streams, $"Streams must be 1..{Protocol.WireFormat.MaxStreams}.");
        }

        if (DowntimeBudget <= TimeSpan.Zero || CompletionTimeout <= TimeSpan.Zero || ProgressTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DowntimeBudget), "Budgets and timeouts must be positive.");
        }
    }
}
