using System.Text.Json;

namespace Ferry.Lab;

/// <summary>Reads a migration as <c>GET /api/v1/migrations/{id}</c> shows it; fields the API does not (yet) send read as null.</summary>
internal static class MigrationJson
{
    public static string? State(JsonElement migration) => String(migration, "state");

    public static bool HasEnded(JsonElement migration) => State(migration) is "completed" or "failed" or "cancelled";

    public static LabMigrationOutcome Outcome(JsonElement migration, string @case, string transport, int run, string from, string to)
    {
        var result = migration.TryGetProperty("result", out var r) && r.ValueKind == JsonValueKind.Object ? r : (JsonElement?)null;
        return new LabMigrationOutcome(@case, transport, run,
            migration.TryGetProperty("id", out var id) && id.TryGetGuid(out var guid) ? guid : null,
            String(migration, "sourceHost") ?? from,
            String(migration, "targetHost") ?? to,
            State(migration) ?? "unknown",
            String(migration, "failureReason"),
            result is { } a ? String(a, "transport") : null,
            result is { } b ? String(b, "transportReason") : null,
            result is { } c ? Number(c, "totalTimeMs") : null,
            result is { } d ? Number(d, "downtimeMs") : null,
            result is { } e ? Number(e, "networkDowntimeMs") : null,
            result is { } f ? Integer(f, "framesSent") : null,
            result is { } g ? Integer(g, "framesLost") : null,
            result is { } h ? Number(h, "packetRatePps") : null,
            result is { } i && i.TryGetProperty("slaMet", out var sla) && sla.ValueKind is JsonValueKind.True or JsonValueKind.False ? sla.GetBoolean() : null,
            result is { } j ? String(j, "probeNote") : null)
        {
            Passes = result is { } k ? (int?)Integer(k, "passes") : null,
            PauseMs = Part(result, "pauseMs"),
            FinalScanMs = Part(result, "finalScanMs"),
            FinalTransferMs = Part(result, "finalTransferMs"),
            TargetStartMs = Part(result, "targetStartMs"),
            PortsUpMs = Part(result, "portsUpMs"),
            TrafficMs = Part(result, "trafficMs"),
            RamCheck = result is { } l ? String(l, "ramCheck") : null,
        };
    }

    private static double? Part(JsonElement? result, string name) =>
        result is { } r && r.TryGetProperty("switchover", out var parts) && parts.ValueKind == JsonValueKind.Object ? Number(parts, name) : null;

    private static string? String(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Number(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static long? Integer(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? (v.TryGetInt64(out long l) ? l : (long)Math.Round(v.GetDouble())) : null;
}
