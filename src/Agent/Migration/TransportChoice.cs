using Ferry.Domain.Migrations;
using Ferry.Transfer.Dirty;

namespace Ferry.Agent.Migration;

/// <summary>
/// The transport a migration runs with (a <see cref="TransportKind"/>) and why, reported with its measurements: the
/// agent's decision, not another name for the transport.
/// <paramref name="PausedCopy"/> marks a native migration without a dirty tracker: the guest is
/// paused for the whole RAM copy, and its downtime says so.
/// </summary>
public sealed record TransportChoice(TransportKind Kind, string Reason, bool PausedCopy = false)
{
    /// <summary>What the policy asks for, before the guest and the hosts are known; auto stays auto.</summary>
    public static TransportChoice Resolve(TransportKind requested) => requested switch
    {
        TransportKind.Qemu => new TransportChoice(TransportKind.Qemu, "qemu requested by the policy"),
        TransportKind.Native => new TransportChoice(TransportKind.Native, "native requested by the policy"),
        _ => new TransportChoice(TransportKind.Auto, "auto"),
    };

    /// <summary>
    /// The target's side, before it knows which processes will map the guest's RAM at the source:
    /// auto prepares the engine beside QEMU only where this host's kernel has a tracker for QEMU guests,
    /// because the source can use it only where the kernel is alike.
    /// </summary>
    public static TransportChoice ForTarget(TransportKind requested, TrackerVerdict hostTracker)
    {
        ArgumentNullException.ThrowIfNull(hostTracker);
        return Resolve(requested) switch
        {
            { Kind: TransportKind.Auto } when hostTracker.Available =>
                new TransportChoice(TransportKind.Auto, $"auto: QEMU and the page-transfer engine both prepared, the source picks ({hostTracker.Reason})"),
            { Kind: TransportKind.Auto } => new TransportChoice(TransportKind.Qemu, $"auto: qemu, because {hostTracker.Reason}"),
            var choice => choice,
        };
    }

    /// <summary>
    /// The source's side, for one guest: native runs live when a dirty tracker covers every process
    /// that maps the guest's RAM; requested explicitly without one, it runs as a paused copy; auto
    /// uses it only live and only when the target prepared the engine.
    /// </summary>
    public static TransportChoice ForGuest(TransportKind requested, TrackerVerdict guestTracker, string? engineMissing)
    {
        ArgumentNullException.ThrowIfNull(guestTracker);
        return Resolve(requested) switch
        {
            { Kind: TransportKind.Native } when guestTracker.Available =>
                new TransportChoice(TransportKind.Native, $"native requested by the policy; live passes ({guestTracker.Reason})"),
            { Kind: TransportKind.Native } =>
                new TransportChoice(TransportKind.Native, $"native requested by the policy; paused copy, the guest is paused for the whole RAM copy, because {guestTracker.Reason}", PausedCopy: true),
            { Kind: TransportKind.Auto } when !guestTracker.Available => new TransportChoice(TransportKind.Qemu, $"auto: qemu, because {guestTracker.Reason}"),
            { Kind: TransportKind.Auto } when engineMissing is not null => new TransportChoice(TransportKind.Qemu, $"auto: qemu, because {engineMissing}"),
            { Kind: TransportKind.Auto } => new TransportChoice(TransportKind.Native, $"auto: native, because {guestTracker.Reason}"),
            var choice => choice,
        };
    }
}
