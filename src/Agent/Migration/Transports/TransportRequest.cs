using Ferry.Agent.Qemu;

namespace Ferry.Agent.Migration.Transports;

/// <summary>What every transport gets: the validated request, the source QEMU, the prepared target, the deferred cleanup and who hears of its progress.</summary>
/// <param name="Migration">The validated Migrate request, with the transport chosen for this guest.</param>
/// <param name="Source">The running source QEMU.</param>
/// <param name="Target">The prepared target, to confirm the guest runs there and to tear it down after a failure.</param>
/// <param name="DeferredSourceCleanup">Runs only once the target runs the guest: quits the source QEMU, frees its RAM and ports.</param>
/// <param name="Observer">Hears every sample and phase as it happens.</param>
public sealed record TransportRequest(
    OutgoingMigrationRequest Migration,
    QemuProcess Source,
    IMigrationTarget Target,
    Func<CancellationToken, Task> DeferredSourceCleanup,
    IMigrationObserver Observer);
