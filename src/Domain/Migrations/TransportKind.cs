namespace Ferry.Domain.Migrations;

/// <summary>
/// How guest memory moves: Ferry's one name for the idea in the model, the REST API and the agent. The gRPC contract
/// spells it <c>Transport</c> (its wire name), translated at the two edges that speak gRPC only; the agent's
/// <c>TransportChoice</c> is not another name for it but a decision: a kind and why it was picked.
/// </summary>
public enum TransportKind
{
    /// <summary>The agent picks: <see cref="Native"/> where a dirty tracker works for the guest, else <see cref="Qemu"/>.</summary>
    Auto,

    /// <summary>QEMU's own migration loop, driven over QMP.</summary>
    Qemu,

    /// <summary>Ferry's page-transfer engine; QEMU moves device state only.</summary>
    Native,
}
