using Ferry.Agent.Qemu;
using Ferry.Transfer.Dirty;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// Answers whether the native transport can run live passes for QEMU guests: on this host, and for one guest, with
/// the verdicts of Transfer's <see cref="DirtyTrackerProbe"/>.
/// </summary>
public interface IQemuGuestTracking
{
    /// <summary>Whether this host's kernel has a tracker that works for QEMU guests at all.</summary>
    TrackerVerdict ForHost();

    /// <summary>Whether a tracker covers every process that maps <paramref name="qemu"/>'s RAM file right now.</summary>
    TrackerVerdict ForGuest(QemuProcess qemu);
}
