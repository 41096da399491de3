using Ferry.Domain.Migrations;

namespace Ferry.Agent.Migration.Transports;

/// <summary>
/// One way of moving a running guest to a prepared target. Every transport is called the same way
/// and ends the same way, so the caller never branches on which one it got (as KubeVirt's
/// migration call and YARP's forwarder): before switch-over a failure or cancel leaves the guest
/// running on its source and the target torn down; after it the source is never resumed, and the
/// deferred source cleanup runs only once the target runs the guest.
/// </summary>
public interface IMigrationTransport
{
    /// <summary>Which transport this is: <see cref="TransportKind.Qemu"/> or <see cref="TransportKind.Native"/>.</summary>
    TransportKind Kind { get; }

    /// <summary>
    /// Runs the migration to its end. Expected failures are results, not exceptions. Cancelling
    /// <paramref name="cancellationToken"/> cancels before switch-over; after it, the migration finishes.
    /// </summary>
    Task<TransportResult> MigrateAsync(TransportRequest request, CancellationToken cancellationToken);
}
