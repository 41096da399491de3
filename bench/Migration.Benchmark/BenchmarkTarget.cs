using System.Diagnostics;
using Ferry.Agent.Migration;
using Ferry.Agent.Qmp;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// The incoming QEMU as the agent's qemu transport sees a target on this host. It also notes when
/// the target is first seen running: QEMU's total-time ends when the source has sent everything,
/// and a target still loading the stream can run well after that (seconds for 8 GiB here).
/// </summary>
internal sealed class BenchmarkTarget(QemuInstance qemu) : IMigrationTarget
{
    private readonly long _created = Stopwatch.GetTimestamp();

    /// <summary>From construction (just before the migration starts) to the first "running" answer; null until then.</summary>
    public TimeSpan? RunningAfter { get; private set; }

    public async Task<RunState> QueryStatusAsync(CancellationToken cancellationToken)
    {
        var state = await qemu.Qmp.QueryStatusAsync(cancellationToken);
        if (state.Running && RunningAfter is null)
        {
            RunningAfter = Stopwatch.GetElapsedTime(_created);
        }

        return state;
    }

    public async Task TearDownAsync(CancellationToken cancellationToken) => await qemu.DisposeAsync();
}
