namespace Ferry.Agent.Qemu;

public enum Accelerator
{
    Kvm,

    /// <summary>QEMU's software emulation; slower, but the only choice without a usable /dev/kvm.</summary>
    Tcg,
}
