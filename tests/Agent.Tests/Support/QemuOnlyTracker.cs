using Ferry.Agent.Migration.Transports.Native;
using Ferry.Agent.Qemu;
using Ferry.Transfer.Dirty;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Ferry.Agent.Tests.Support;

/// <summary>
/// A fault injected into the native transport: the real tracking's verdict with every writer but
/// QEMU left out, so what ovs-vswitchd writes into a guest goes unseen (as it would with a tracker that
/// knows only the hypervisor).
/// </summary>
internal sealed class QemuOnlyTracker(IQemuGuestTracking inner) : IQemuGuestTracking
{
    public static void Replace(IServiceCollection services)
    {
        services.RemoveAll<IQemuGuestTracking>();
        services.AddSingleton<IQemuGuestTracking>(sp => new QemuOnlyTracker(new QemuGuestTracking(sp.GetRequiredService<UserfaultfdRegistry>(), sp.GetService<Ferry.Agent.Ovs.IOvsSwitch>())));
    }

    public TrackerVerdict ForHost() => inner.ForHost();

    public TrackerVerdict ForGuest(QemuProcess qemu)
    {
        var verdict = inner.ForGuest(qemu);
        return verdict with
        {
            Reason = $"{verdict.Reason} (test fault: only QEMU is tracked)",
            Processes = [qemu.Pid],
            Writers = verdict.Writers.Where(w => w.Pid == qemu.Pid).ToList(),
        };
    }
}
