using Ferry.Agent.Qmp;

namespace Ferry.Agent.Migration;

/// <summary>
/// The receiving side as the source-side flow sees it: the local QEMU in tests and single-host runs,
/// the target agent over gRPC between hosts. Failing to reach the target surfaces as
/// <see cref="QmpException"/> (local) or <see cref="IOException"/> (remote).
/// </summary>
public interface IMigrationTarget
{
    /// <summary>The target's run state after the source reported completion.</summary>
    Task<RunState> QueryStatusAsync(CancellationToken cancellationToken);

    /// <summary>Removes the target after a failure or cancel (kill QEMU, free its RAM and ports).</summary>
    Task TearDownAsync(CancellationToken cancellationToken);

    /// <summary>How the guest's arrival went at the target, waiting up to <paramref name="wait"/> for its ports; null when the target cannot say.</summary>
    Task<GuestArrival?> DescribeArrivalAsync(TimeSpan wait, CancellationToken cancellationToken) => Task.FromResult<GuestArrival?>(null);
}
