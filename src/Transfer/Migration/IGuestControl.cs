namespace Ferry.Transfer.Migration;

/// <summary>The source guest as the engine sees it: something that can be paused, resumed and stopped.</summary>
public interface IGuestControl
{
    /// <summary>
    /// Stops the guest's CPUs and returns its device state, captured once: the origin document's
    /// change c, one state sync during stop-and-copy instead of two. Empty when all state is in RAM.
    /// </summary>
    /// <param name="cancellationToken">Cancels the pause.</param>
    Task<ReadOnlyMemory<byte>> PauseAsync(CancellationToken cancellationToken);

    /// <summary>
    /// How long after <see cref="PauseAsync"/> was called the guest actually stopped, when the guest's own
    /// machinery pauses it partway through (QEMU stopping the guest at the end of its device-state save);
    /// the downtime starts there. Zero when the pause is the first thing <see cref="PauseAsync"/> does.
    /// </summary>
    TimeSpan PauseLead => TimeSpan.Zero;

    /// <summary>Lets a paused guest run again; used only when a migration fails before switch-over.</summary>
    /// <param name="cancellationToken">Cancels the resume.</param>
    Task ResumeAsync(CancellationToken cancellationToken);

    /// <summary>Stops the source guest for good; part of the deferred cleanup after switch-over.</summary>
    /// <param name="cancellationToken">Cancels the stop.</param>
    Task StopAsync(CancellationToken cancellationToken);
}
