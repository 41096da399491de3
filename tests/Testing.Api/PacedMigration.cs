using System.Threading.Channels;
using Ferry.Contracts;

namespace Ferry.Testing.Api;

/// <summary>
/// One migration as a paced <see cref="LoopbackAgent"/> streams it from the source: each call sends one
/// report, when the test makes it, so a client is looked at while the migration is held in a phase.
/// </summary>
public sealed class PacedMigration(string migrationId)
{
    private long _sequence;

    internal Channel<MigrationProgress> Frames { get; } = Channel.CreateUnbounded<MigrationProgress>();

    /// <summary>Set when the API asked the agent to migrate.</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Progress(long pass, long transferred, long remaining, double dirtyPagesPerSecond, double throughputMbps) =>
        Send(new MigrationProgress
        {
            Phase = MigrationPhase.Running, Pass = pass, TransferredBytes = transferred, RemainingBytes = remaining, TotalBytes = transferred + remaining,
            DirtyPagesPerSecond = dirtyPagesPerSecond, ThroughputMbps = throughputMbps,
        });

    public void SwitchOver() => Send(new MigrationProgress { Phase = MigrationPhase.SwitchingOver });

    /// <summary>Cleans up, completes with <paramref name="stats"/> and ends the stream.</summary>
    public void Complete(MigrationStats stats)
    {
        Send(new MigrationProgress { Phase = MigrationPhase.CleaningUp });
        Send(new MigrationProgress { Phase = MigrationPhase.Completed, Stats = stats });
        End();
    }

    /// <summary>Ends the migration in <paramref name="phase"/> with <paramref name="reason"/>, and the stream with it.</summary>
    public void Fail(string reason, MigrationPhase phase = MigrationPhase.Failed)
    {
        Send(new MigrationProgress { Phase = phase, FailureReason = reason });
        End();
    }

    /// <summary>Ends the stream with no further report.</summary>
    public void End() => Frames.Writer.TryComplete();

    private void Send(MigrationProgress progress)
    {
        progress.MigrationId = migrationId;
        progress.Sequence = Interlocked.Increment(ref _sequence);
        Frames.Writer.TryWrite(progress);
    }
}
