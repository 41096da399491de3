using Ferry.Transfer.Migration;

namespace Ferry.Transfer.Tests.Support;

/// <summary>Drives a workload process as the migration's source guest and records what was asked of it.</summary>
internal sealed class WorkloadGuestControl(WorkloadProcess workload) : IGuestControl
{
    public int Pauses { get; private set; }

    public int Resumes { get; private set; }

    public int Stops { get; private set; }

    /// <summary>Runs while the guest is paused, before the final scan (tests snapshot the source here).</summary>
    public Action? OnPaused { get; init; }

    public Task<ReadOnlyMemory<byte>> PauseAsync(CancellationToken cancellationToken)
    {
        workload.Pause();
        Pauses++;
        OnPaused?.Invoke();
        return Task.FromResult(ReadOnlyMemory<byte>.Empty);
    }

    public Task ResumeAsync(CancellationToken cancellationToken)
    {
        workload.Resume();
        Resumes++;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Stops++;
        return Task.CompletedTask; // the test still needs the paused source RAM; it disposes the process itself
    }
}
