namespace Ferry.Agent.Qemu;

/// <summary>The accelerator the agent uses for a kind of guest and why, for the host inventory and the guest's status.</summary>
public sealed record AcceleratorChoice(Accelerator Accelerator, string Reason)
{
    /// <summary>The name QEMU's <c>-accel</c> and the contracts use: <c>kvm</c> or <c>tcg</c>.</summary>
    public string Name => Accelerator == Accelerator.Kvm ? "kvm" : "tcg";
}
