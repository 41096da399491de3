using Ferry.Agent.Migration;
using Ferry.Agent.Qmp;

namespace Ferry.Agent.Tests.Support;

/// <summary>A target that is never reached; records whether the flow tore it down.</summary>
internal sealed class RecordingTarget : IMigrationTarget
{
    public int TearDowns { get; private set; }

    public Task<RunState> QueryStatusAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new RunState { Running = false, Status = "inmigrate" });

    public Task TearDownAsync(CancellationToken cancellationToken)
    {
        TearDowns++;
        return Task.CompletedTask;
    }
}
