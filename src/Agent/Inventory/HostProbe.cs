namespace Ferry.Agent.Inventory;

/// <summary>Whether a host feature works, and what the probe saw, in words an operator can act on.</summary>
public sealed record HostProbe(bool Available, string Reason);
