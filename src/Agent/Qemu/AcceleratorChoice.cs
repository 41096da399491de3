namespace Ferry.Agent.Qemu;

/// <summary>The accelerator the agent will use and why, for the host inventory.</summary>
public sealed record AcceleratorChoice(Accelerator Accelerator, string Reason);
