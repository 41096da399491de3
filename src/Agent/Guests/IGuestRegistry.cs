using Ferry.Agent.Qemu;

namespace Ferry.Agent.Guests;

/// <summary>
/// The guests of this host, one QEMU process per guest name. Launching a guest whose QEMU runs is
/// refused (<see cref="Refusal.AlreadyExists"/>), never a second copy; stopping one that is gone is a no-op.
/// </summary>
public interface IGuestRegistry
{
    Task<AgentGuestView> LaunchAsync(GuestDefinition guest, CancellationToken cancellationToken);

    /// <summary>Starts a migration target (<c>-incoming defer</c>) under the guest's name; null when the name is taken.</summary>
    Task<QemuProcess?> LaunchIncomingAsync(GuestDefinition guest, string instance, CancellationToken cancellationToken);

    /// <summary>
    /// Manages QEMU <paramref name="pid"/>, left running by an earlier life of this agent, as the guest its
    /// record names; null when that guest already has a live QEMU here (the second is left alone).
    /// </summary>
    Task<QemuProcess?> AdoptAsync(int pid, QemuInstanceRecord record, CancellationToken cancellationToken);

    Task<AgentGuestView> StopAsync(string name, CancellationToken cancellationToken);

    Task<AgentGuestView> GetStatusAsync(string name, CancellationToken cancellationToken);

    /// <summary>The QEMU process of a guest that has not exited, or null.</summary>
    QemuProcess? Find(string name);

    /// <summary>
    /// Removes <paramref name="process"/> if it is still the one registered under <paramref name="name"/>:
    /// asked to quit over QMP when <paramref name="graceful"/>, killed otherwise; its RAM file is freed.
    /// </summary>
    Task RemoveAsync(string name, QemuProcess process, bool graceful, CancellationToken cancellationToken);

    Task<IReadOnlyList<AgentGuestView>> ListAsync(CancellationToken cancellationToken);
}
