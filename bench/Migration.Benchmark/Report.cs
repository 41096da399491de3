using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ferry.Migration.Benchmark;

/// <summary>The per-run table for people and the one closing JSON line for scripts (its field names are fixed by issue 4).</summary>
internal static class Report
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Table(IReadOnlyList<RunResult> runs)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant, $"{"run",3} {"transport",-9} {"ok",-3} {"total ms",9} {"down ms",8} {"cleanup ms",10} {"setup ms",8} {"passes",6} {"MB sent",9} {"final pg",8} {"load",5}  detail");
        foreach (var r in runs)
        {
            text.AppendLine(Invariant,
                $"{r.Run,3} {r.Transport,-9} {(r.Succeeded ? "yes" : "NO"),-3} {r.TotalMs,9:0.0} {r.DowntimeMs,8:0.000} {(r.CleanupMs is { } c ? c.ToString("0.0", Invariant) : "-"),10} {r.SetupMs,8:0.0} {r.Passes,6} {r.BytesSent / 1e6,9:0.0} {r.FinalPassPages,8} {r.LoadAverage,5:0.0}  {(r.Succeeded ? r.Detail : r.Failure)}");
        }

        return text.ToString();
    }

    public static string Json(MigrationBenchmarkOptions options, string accelerator, string dirtyMethod, IReadOnlyList<RunResult> runs)
    {
        var qemu = runs.Where(r => r.Transport == "qemu" && r.Succeeded).ToList();
        var native = runs.Where(r => r.Transport == "native" && r.Succeeded).ToList();
        var qemuTls = runs.Where(r => r.Transport == "qemu-tls" && r.Succeeded).ToList();
        double? qemuTotal = Median(qemu.Select(r => r.TotalMs));
        double? nativeTotal = Median(native.Select(r => r.TotalMs));
        double? qemuTlsTotal = Median(qemuTls.Select(r => r.TotalMs));
        double? qemuDowntime = Median(qemu.Select(r => r.DowntimeMs));
        double? qemuTlsDowntime = Median(qemuTls.Select(r => r.DowntimeMs));
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("size", options.SizeLabel);
            json.WriteString("profile", options.Profile);
            json.WriteString("link", options.Link);
            json.WriteNumber("runs", options.Runs);
            json.WriteStartObject("qemu");
            Number(json, "totalMs", qemuTotal);
            Number(json, "downtimeMs", qemuDowntime);
            Number(json, "targetRunningWallMs", Median(qemu.Where(r => r.TargetRunningMs is not null).Select(r => r.TargetRunningMs!.Value)));
            Number(json, "totalP90Ms", Percentile(qemu.Select(r => r.TotalMs), 0.9));
            Number(json, "downtimeP90Ms", Percentile(qemu.Select(r => r.DowntimeMs), 0.9));
            json.WriteNumber("succeeded", qemu.Count);
            json.WriteEndObject();
            json.WriteStartObject("native");
            Number(json, "totalMs", nativeTotal);
            Number(json, "downtimeMs", Median(native.Select(r => r.DowntimeMs)));
            Number(json, "cleanupMs", Median(native.Select(r => r.CleanupMs ?? 0)));
            Number(json, "totalP90Ms", Percentile(native.Select(r => r.TotalMs), 0.9));
            Number(json, "downtimeP90Ms", Percentile(native.Select(r => r.DowntimeMs), 0.9));
            json.WriteNumber("succeeded", native.Count);
            json.WriteEndObject();
            Number(json, "ratioTotal", qemuTotal is > 0 && nativeTotal is not null ? Math.Round(nativeTotal.Value / qemuTotal.Value, 4) : null);

            // What encryption costs: QEMU's loop over its TLS migration, in the same run, against the plain one.
            if (options.QemuTls)
            {
                json.WriteStartObject("qemuTls");
                Number(json, "totalMs", qemuTlsTotal);
                Number(json, "downtimeMs", qemuTlsDowntime);
                Number(json, "targetRunningWallMs", Median(qemuTls.Where(r => r.TargetRunningMs is not null).Select(r => r.TargetRunningMs!.Value)));
                Number(json, "totalP90Ms", Percentile(qemuTls.Select(r => r.TotalMs), 0.9));
                Number(json, "downtimeP90Ms", Percentile(qemuTls.Select(r => r.DowntimeMs), 0.9));
                json.WriteNumber("succeeded", qemuTls.Count);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("qemuTls");
            }

            Number(json, "tlsCostTotal", qemuTotal is > 0 && qemuTlsTotal is not null ? Math.Round(qemuTlsTotal.Value / qemuTotal.Value, 4) : null);
            Number(json, "tlsCostDowntimeMs", qemuDowntime is not null && qemuTlsDowntime is not null ? qemuTlsDowntime.Value - qemuDowntime.Value : null);

            // The engine's streams have no encryption to cost anything: there is no figure to give, and none is made up.
            json.WriteBoolean("nativeEncrypted", false);
            json.WriteString("nativeStreamSecurity", "authenticated, not encrypted: a challenge-response handshake (HMAC-SHA256 under the per-migration token) per stream and an XXH3-64 checksum per frame; pages cross in clear");
            json.WriteString("accelerator", accelerator);
            json.WriteString("linkDetail", options.LinkDetail);
            json.WriteString("dirtyMethod", dirtyMethod);
            json.WriteNumber("downtimeBudgetMs", options.DowntimeBudget.TotalMilliseconds);
            json.WriteNumber("nativeStreams", options.Streams);
            json.WriteNumber("qemuStreams", 1);
            json.WriteBoolean("qemuPrealloc", options.QemuPrealloc);
            json.WriteNumber("loadAverageMedian", Median(runs.Select(r => r.LoadAverage)) ?? 0);
            json.WriteStartArray("qemuTotalMsPerRun");
            qemu.ForEach(r => json.WriteNumberValue(Math.Round(r.TotalMs, 3)));
            json.WriteEndArray();
            json.WriteStartArray("nativeTotalMsPerRun");
            native.ForEach(r => json.WriteNumberValue(Math.Round(r.TotalMs, 3)));
            json.WriteEndArray();
            json.WriteStartArray("qemuDowntimeMsPerRun");
            qemu.ForEach(r => json.WriteNumberValue(Math.Round(r.DowntimeMs, 3)));
            json.WriteEndArray();
            json.WriteStartArray("nativeDowntimeMsPerRun");
            native.ForEach(r => json.WriteNumberValue(Math.Round(r.DowntimeMs, 3)));
            json.WriteEndArray();
            json.WriteStartArray("qemuTlsTotalMsPerRun");
            qemuTls.ForEach(r => json.WriteNumberValue(Math.Round(r.TotalMs, 3)));
            json.WriteEndArray();
            json.WriteStartArray("qemuTlsDowntimeMsPerRun");
            qemuTls.ForEach(r => json.WriteNumberValue(Math.Round(r.DowntimeMs, 3)));
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, Math.Round(v, 3));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static double? Median(IEnumerable<double> values) => Percentile(values, 0.5);

    /// <summary>Nearest-rank percentile; the median of an even count is the mean of the middle two.</summary>
    private static double? Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        if (p == 0.5)
        {
            int mid = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }

        int rank = (int)Math.Ceiling(p * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
