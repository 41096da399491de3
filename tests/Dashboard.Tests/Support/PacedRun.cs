using System.Threading.Channels;
using Ferry.Contracts;

namespace Ferry.Dashboard.Tests.Support;

/// <summary>One migration as the source agent streams it; each call sends one report, when the test says.</summary>
public sealed class PacedRun(string migrationId)
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

    public void SwitchOver() => Send(new MigrationProgress { Phase = MigrationPhase.SwitchingOver });

    public void Complete(double totalMs, double downtimeMs, double? networkDowntimeMs = null, int passes = 2)
    {
        Send(new MigrationProgress { Phase = MigrationPhase.CleaningUp });
        var stats = new MigrationStats
        {
            Transport = Transport.Qemu, TotalTimeMs = totalMs, DowntimeMs = downtimeMs, SetupTimeMs = 2, BytesTransferred = 1L << 30,
            Passes = passes, CleanupTimeMs = 9, ThroughputMbps = 9400,
        };
        if (networkDowntimeMs is { } network)
        {
            stats.NetworkDowntimeMs = network;
        }

        Send(new MigrationProgress { Phase = MigrationPhase.Completed, Stats = stats });
        Frames.Writer.TryComplete();
    }

    private void Send(MigrationProgress progress)
    {
        progress.MigrationId = migrationId;
        progress.Sequence = Interlocked.Increment(ref _sequence);
        Frames.Writer.TryWrite(progress);
    }
}
