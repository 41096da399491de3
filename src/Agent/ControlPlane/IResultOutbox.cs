using Ferry.Contracts;

namespace Ferry.Agent.ControlPlane;

/// <summary>
/// Terminal migration results on their way to the API. A result is on disk before anyone else sees
/// it and leaves the disk only once the API acknowledged it, so an API outage loses no measurement.
/// </summary>
public interface IResultOutbox
{
    /// <summary>Writes the result durably and queues its delivery.</summary>
    Task StoreAsync(MigrationProgress result, CancellationToken cancellationToken);

    /// <summary>Migration ids whose results are still waiting for an acknowledgement.</summary>
    IReadOnlyList<string> Pending { get; }

    /// <summary>Migration ids whose results the API refused for good; kept with the reason for an operator, not retried.</summary>
    IReadOnlyList<string> Parked { get; }
}
