namespace Ferry.Domain.Migrations;

/// <summary>How guest memory moves.</summary>
public enum TransportKind
{
    /// <summary>The agent picks: <see cref="Native"/> where a dirty tracker works for the guest, else <see cref="Qemu"/>.</summary>
    Auto,

    /// <summary>QEMU's own migration loop, driven over QMP.</summary>
    Qemu,

    /// <summary>Ferry's page-transfer engine; QEMU moves device state only.</summary>
    Native,
}
