namespace Ferry.Agent.Migration.Transports;

/// <summary>What a transport tells while it runs, in order: samples, then the pause, then the cleanup.</summary>
public interface IMigrationObserver
{
    /// <summary>A sample while pages move.</summary>
    void Report(TransportProgress sample);

    /// <summary>The source paused the guest for switch-over: from here a cancel is too late. Idempotent.</summary>
    void SwitchingOver();

    /// <summary>The target runs the guest; the deferred source cleanup starts. Idempotent.</summary>
    void CleaningUp();
}
