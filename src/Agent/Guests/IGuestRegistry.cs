using Ferry.Agent.Qemu;

namespace Ferry.Agent.Guests;

/// <summary>
/// The guests of this host, one QEMU process per guest name. Every call is idempotent by name:
/// launching a guest that runs returns its status, stopping one that is gone is a no-op.
/// </summary>
public interface IGuestRegistry
{
    Task<GuestView> LaunchAsync(GuestDefinition guest, CancellationToken cancellationToken);

    /// <summary>Starts a migration target (<c>-incoming defer</c>) under the guest's name; null when the name is taken.</summary>
    Task<QemuProcess?> LaunchIncomingAsync(GuestDefinition guest, string instance, CancellationToken cancellationToken);

    Task<GuestView> StopAsync(string name, CancellationToken cancellationToken);

    Task<GuestView> GetStatusAsync(string name, CancellationToken cancellationToken);

    /// <summary>The QEMU process of a guest that has not exited, or null.</summary>
    QemuProcess? Find(string name);

    /// <summary>
    /// Removes <paramref name="process"/> if it is still the one registered under <paramref name="name"/>:
    /// asked to quit over QMP when <paramref name="graceful"/>, killed otherwise; its RAM file is freed.
    /// </summary>
    Task RemoveAsync(string name, QemuProcess process, bool graceful, CancellationToken cancellationToken);

    Task<IReadOnlyList<GuestView>> ListAsync(CancellationToken cancellationToken);
}
