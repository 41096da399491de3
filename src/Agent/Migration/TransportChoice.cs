using Ferry.Contracts;

namespace Ferry.Agent.Migration;

/// <summary>The transport a migration runs with and why, reported with its measurements.</summary>
public sealed record TransportChoice(Transport Transport, string Reason)
{
    /// <summary>Resolves the policy's request; null when it asks for something this agent cannot do.</summary>
    public static TransportChoice? Resolve(Transport requested) => requested switch
    {
        Transport.Qemu => new TransportChoice(Transport.Qemu, "qemu requested by the policy"),
        Transport.Auto or Transport.Unspecified => new TransportChoice(Transport.Qemu, "auto: the native transport is not wired into the agent yet, so QEMU's own migration is used"),
        _ => null,
    };
}
