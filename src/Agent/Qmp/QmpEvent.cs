using System.Text.Json;

namespace Ferry.Agent.Qmp;

/// <summary>An asynchronous QMP event such as <c>MIGRATION</c>, <c>MIGRATION_PASS</c>, <c>STOP</c> or <c>RESUME</c>.</summary>
/// <param name="Name">QEMU's event name, upper case.</param>
/// <param name="Data">The event's <c>data</c> member (an empty object when QEMU sent none); detached from the wire buffer.</param>
/// <param name="Timestamp">QEMU's own timestamp of the event.</param>
public sealed record QmpEvent(string Name, JsonElement Data, DateTimeOffset Timestamp)
{
    public const string Migration = "MIGRATION";
    public const string MigrationPass = "MIGRATION_PASS";
    public const string Stop = "STOP";
    public const string Resume = "RESUME";
    public const string Shutdown = "SHUTDOWN";
}
