using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ferry.Lab;

/// <summary>Every migration of the lab as it ended, for a spreadsheet (CSV) and for scripts (JSON).</summary>
internal static class RawResults
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string Csv(IReadOnlyList<LabMigrationOutcome> outcomes)
    {
        var text = new StringBuilder("case,transport,run,id,from,to,state,reportedTransport,totalMs,downtimeMs,networkDowntimeMs,framesSent,framesLost,packetRatePps,slaMet,transportReason,probeNote,failureReason\n");
        foreach (var o in outcomes)
        {
            text.AppendJoin(',', o.Case, o.Transport, Format(o.Run), o.Id?.ToString() ?? "", o.From, o.To, o.State, o.ReportedTransport ?? "",
                Format(o.TotalMs), Format(o.DowntimeMs), Format(o.NetworkDowntimeMs), Format(o.FramesSent), Format(o.FramesLost),
                Format(o.PacketRatePps), o.SlaMet is { } sla ? (sla ? "true" : "false") : "", Quote(o.TransportReason), Quote(o.ProbeNote), Quote(o.FailureReason));
            text.Append('\n');
        }

        return text.ToString();
    }

    public static string JsonArray(IReadOnlyList<LabMigrationOutcome> outcomes) => JsonSerializer.Serialize(outcomes, Json);

    public static IReadOnlyList<LabMigrationOutcome> FromJsonArray(string json) => JsonSerializer.Deserialize<List<LabMigrationOutcome>>(json, Json) ?? [];

    private static string Format<T>(T? value)
        where T : struct, IFormattable => value is { } v ? v.ToString(null, CultureInfo.InvariantCulture) : "";

    private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string? text) => text is null ? "" : $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal).ReplaceLineEndings(" ")}\"";
}
