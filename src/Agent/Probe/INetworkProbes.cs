namespace Ferry.Agent.Probe;

/// <summary>
/// The network probe of migrations whose policy asks for one: the source host sends a sequence-numbered
/// stream into the guest's first vhost-user port and counts what leaves its second, wherever the guest runs.
/// </summary>
public interface INetworkProbes
{
    /// <summary>
    /// On a migration's target: steers the migration's probe stream arriving over the fabric into the
    /// incoming guest's first port and what leaves its second port back over the fabric. Idempotent.
    /// </summary>
    /// <exception cref="ProbeUnavailableException">This host has no fabric port or no switch.</exception>
    Task SteerToIncomingGuestAsync(string migrationId, string guest, IReadOnlyList<string> ports, CancellationToken cancellationToken);

    /// <summary>
    /// On a migration's source: adds the generator's and sink's ports, steers the stream through the guest
    /// here and over the fabric, and starts sending at <paramref name="framesPerSecond"/>.
    /// </summary>
    /// <exception cref="ProbeUnavailableException">This host has no fabric port or no switch, or the guest has fewer than two ports.</exception>
    Task<ProbeRun> StartAsync(string migrationId, string guest, IReadOnlyList<string> ports, int framesPerSecond, CancellationToken cancellationToken);
}
