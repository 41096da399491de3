using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>
/// Arguments of <c>xen-save-devices-state</c> and <c>xen-load-devices-state</c>: every device's state
/// and no RAM, to or from a file (QEMU's generic device-state commands, named after their first user).
/// </summary>
internal sealed record DevicesStateArguments(
    [property: JsonPropertyName("filename")] string FileName,
    [property: JsonPropertyName("live"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Live = null);
