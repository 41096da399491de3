using System.Threading.Channels;
using Ferry.Contracts;

namespace Ferry.Cli.Tests.Support;

/// <summary>One migration as the source agent streams it; each call sends one progress report.</summary>
public sealed class AgentRun(string migrationId)
{
    private long _sequence;

    public Channel<MigrationProgress> Frames { get; } = Channel.CreateUnbounded<MigrationProgress>();

    /// <summary>Set when the API asked the agent to migrate.</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Progress(long pass, long transferred, long remaining, double dirtyPagesPerSecond, double throughputMbps) =>
        Send(new MigrationProgress
        {
            Phase = MigrationPhase.Running, Pass = pass, TransferredBytes = transferred, RemainingBytes = remaining, TotalBytes = transferred + remaining,
            DirtyPagesPerSecond = dirtyPagesPerSecond, ThroughputMbps = throughputMbps,
        });

    public void Complete(double totalMs, double downtimeMs)
    {
        Send(new MigrationProgress { Phase = MigrationPhase.SwitchingOver });
        Send(new MigrationProgress { Phase = MigrationPhase.CleaningUp });
        Send(new MigrationProgress
        {
            Phase = MigrationPhase.Completed,
            Stats = new MigrationStats { Transport = Transport.Qemu, TotalTimeMs = totalMs, DowntimeMs = downtimeMs, SetupTimeMs = 2, BytesTransferred = 1 << 21, Passes = 2, CleanupTimeMs = 9 },
        });
        Frames.Writer.TryComplete();
    }

    public void Fail(string reason, MigrationPhase phase = MigrationPhase.Failed)
    {
        Send(new MigrationProgress { Phase = phase, FailureReason = reason });
        Frames.Writer.TryComplete();
    }

    private void Send(MigrationProgress progress)
    {
        progress.MigrationId = migrationId;
        progress.Sequence = Interlocked.Increment(ref _sequence);
        Frames.Writer.TryWrite(progress);
    }
}
