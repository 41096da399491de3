namespace Ferry.Agent.Qemu;

/// <summary>
/// What to run. <paramref name="Guest"/> names the VM (the same on source and target; NIC MACs derive
/// from it); <paramref name="Instance"/> names this one QEMU process (unique on the host; every path
/// derives from it). Both are validated by <see cref="ResourceName"/>.
/// </summary>
/// <param name="Guest">The VM's name.</param>
/// <param name="Instance">This QEMU process's name.</param>
/// <param name="MemoryMiB">Guest RAM in MiB.</param>
/// <param name="Backing">tmpfs or hugetlbfs file for the RAM.</param>
/// <param name="BootDisk">Raw disk image the BIOS boots from; null for the idle guest.</param>
/// <param name="VhostUserPorts">OVS vhost-user ports, one virtio-net NIC each, in guest order.</param>
/// <param name="Incoming">Start paused with <c>-incoming defer</c>, as a migration target.</param>
/// <param name="VhostUserSocketDirectory">Where QEMU creates the ports' listening sockets; the instance directory when null (<see cref="QemuInstanceLayout.VhostUserSocket"/>).</param>
/// <param name="Kernel">Boots this kernel and initramfs instead of <paramref name="BootDisk"/> or nothing.</param>
/// <param name="Vcpus">Virtual CPUs (<c>-smp</c>); source and target of a migration must agree.</param>
public sealed record QemuGuestSpec(
    string Guest,
    string Instance,
    int MemoryMiB,
    MemoryBacking Backing = MemoryBacking.Tmpfs,
    ReadOnlyMemory<byte>? BootDisk = null,
    IReadOnlyList<string>? VhostUserPorts = null,
    bool Incoming = false,
    string? VhostUserSocketDirectory = null,
    KernelBoot? Kernel = null,
    int Vcpus = 1)
{
    /// <summary>What the guest runs, which decides its accelerator: a kernel boot is Linux, the rest firmware-level code.</summary>
    public GuestKind Kind => Kernel is null ? GuestKind.Firmware : GuestKind.Linux;
}
