namespace Ferry.Agent.Qemu;

/// <summary>
/// What a guest runs, as far as the choice of accelerator goes: machines of this kind differ in
/// what their <c>/dev/kvm</c> can run, so the agent chooses per kind, by probing.
/// </summary>
public enum GuestKind
{
    /// <summary>BIOS and boot-sector code (the idle guest, the page counter): runs under any working KVM, kvm_pvm's included.</summary>
    Firmware,

    /// <summary>An unmodified Linux kernel (the forwarding guest): kvm_pvm's KVM hangs it at boot with an empty console.</summary>
    Linux,
}
