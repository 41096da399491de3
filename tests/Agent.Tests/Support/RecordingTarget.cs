using Ferry.Agent.Migration;
using Ferry.Agent.Qmp;

namespace Ferry.Agent.Tests.Support;

/// <summary>A target that is never reached; records whether the flow tore it down and how often it was asked.</summary>
internal sealed class RecordingTarget : IMigrationTarget
{
    public int TearDowns { get; private set; }

    /// <summary>When set, every status question fails as if the target agent were gone.</summary>
    public bool Silent { get; init; }

    public int Questions { get; private set; }

    public Task<RunState> QueryStatusAsync(CancellationToken cancellationToken)
    {
        Questions++;
        return Silent
            ? Task.FromException<RunState>(new TargetUnreachableException("The target agent did not report the guest's state: Unavailable (injected)"))
            : Task.FromResult(new RunState { Running = false, Status = "inmigrate" });
    }

    public Task TearDownAsync(CancellationToken cancellationToken)
    {
        TearDowns++;
        return Task.CompletedTask;
    }
}
