using Ferry.Agent.Guests;

namespace Ferry.Agent.Migration;

/// <summary>The target side of migrations on this host; every call is idempotent by migration id.</summary>
public interface IIncomingMigrations
{
    /// <summary>
    /// Launches the receiving QEMU and makes it listen on the agent's migration address, and for the
    /// native transport the engine's receiver with <paramref name="pageStreamToken"/> (generated when
    /// null); once per id.
    /// </summary>
    /// <remarks>
    /// <paramref name="sourceAddress"/>, when known, is the only address the engine's receiver takes page streams from;
    /// with cluster TLS, <paramref name="sourceHost"/>'s certificate is the only one QEMU's port takes a stream from
    /// (required then, unless the transport is native).
    /// </remarks>
    Task<IncomingMigration> PrepareAsync(string migrationId, GuestDefinition guest, MigrationSettings settings, TransportChoice transport, byte[]? pageStreamToken,
        string? sourceHost, System.Net.IPAddress? sourceAddress, CancellationToken cancellationToken);

    /// <summary>Kills the receiving QEMU and frees its RAM; refuses when the guest already runs here.</summary>
    Task<TimeSpan> CleanupAsync(string migrationId, CancellationToken cancellationToken);

    /// <summary>How the guest's arrival went here, waiting up to <paramref name="wait"/> for OVS to poll its ports.</summary>
    /// <exception cref="RequestRefusedException">No target of <paramref name="migrationId"/> was prepared here.</exception>
    Task<GuestArrival> DescribeArrivalAsync(string migrationId, TimeSpan wait, CancellationToken cancellationToken);
}
