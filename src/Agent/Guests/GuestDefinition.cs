using Ferry.Agent.Qemu;
using Ferry.Agent.TestGuest;

namespace Ferry.Agent.Guests;

/// <summary>A guest as the agent runs it, validated from a request; the same definition serves source and target.</summary>
public sealed record GuestDefinition(
    string Name,
    int MemoryMiB,
    TestGuestProfile Profile,
    MemoryBacking Backing = MemoryBacking.Tmpfs,
    IReadOnlyList<string>? VhostUserPorts = null,
    int Vcpus = 1)
{
    /// <summary>The QEMU process that runs this guest under <paramref name="instance"/>; the page counter gets its boot sector built for its RAM size.</summary>
    public QemuGuestSpec ToSpec(string instance, bool incoming) => new(
        Name,
        instance,
        MemoryMiB,
        Backing,
        Profile == TestGuestProfile.PageCounter ? PageCounterBootSector.Build(PageCounterRange.ForGuest(MemoryMiB)) : null,
        VhostUserPorts,
        incoming,
        Vcpus: Vcpus);
}
