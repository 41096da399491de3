using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ferry.Lab;

/// <summary>The lab's table for people, the origin document's figures beside it, and the closing JSON lines (field names fixed by issue 5).</summary>
internal static class LabReport
{
    /// <summary>The origin document's requirement.</summary>
    public const double RequiredTotalMs = 2000;

    public const double RequiredDowntimeMs = 10;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Milliseconds (or any measurement) as the table shows them: one decimal at least, "-" when not measured.</summary>
    public static string Ms(double? value) => value is { } v ? v.ToString("0.0##", Invariant) : "-";

    public static string Table(IReadOnlyList<CaseSummary> rows)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant, $"{"",-6} {"",-21} {"",7}  {"total time, ms",-30}  {"downtime (hypervisor), ms",-28}  {"network downtime, ms",-28}  {"frames",6} {"arrival",9}");
        text.AppendLine(Invariant, $"{"case",-6} {"transport",-21} {"ok/runs",7}  {"median",8} {"min–max",-13} {"p90",7}  {"median",7} {"min–max",-12} {"p90",7}  {"median",7} {"min–max",-12} {"p90",7}  {"lost",6} {"rate pps",9}");
        foreach (var r in rows)
        {
            text.AppendLine(Invariant,
                $"{r.Case,-6} {r.Label,-21} {$"{r.Completed}/{r.Runs}",7}  {Short(r.Total?.Median),8} {Range(r.Total),-13} {Short(r.Total?.P90),7}  {Short(r.Downtime?.Median),7} {Range(r.Downtime),-12} {Short(r.Downtime?.P90),7}  {Short(r.NetworkDowntime?.Median),7} {Range(r.NetworkDowntime),-12} {Short(r.NetworkDowntime?.P90),7}  {Count(r.FramesLost?.Median),6} {Rate(r.PacketRate?.Median),9}");
        }

        text.AppendLine();
        text.AppendLine("the switch-over taken apart (medians, ms): hypervisor downtime = pause + final scan + final transfer + target start (native's");
        text.AppendLine("steps; QEMU's loop does not say), then ports up (guest running at the target -> OVS there polls its ports) and traffic");
        text.AppendLine("(the rest of the network gap: the stream finding the guest at its new place)");
        text.AppendLine(Invariant, $"{"case",-6} {"transport",-21} {"passes",6} {"pause",7} {"scan",7} {"transfer",8} {"start",7} {"downtime",8} {"ports up",8} {"traffic",8} {"network",8}");
        foreach (var r in rows)
        {
            text.AppendLine(Invariant,
                $"{r.Case,-6} {r.Label,-21} {Count(r.Passes?.Median),6} {Ms(r.PauseMs?.Median),7} {Ms(r.FinalScanMs?.Median),7} {Ms(r.FinalTransferMs?.Median),8} {Ms(r.TargetStartMs?.Median),7} {Ms(r.Downtime?.Median),8} {Ms(r.PortsUpMs?.Median),8} {Ms(r.TrafficMs?.Median),8} {Ms(r.NetworkDowntime?.Median),8}");
        }

        foreach (var r in rows.Where(r => r.ProbeNotes.Count > 0))
        {
            text.AppendLine(Invariant, $"{r.Case} {r.Label}: the probe noted: {string.Join("; ", r.ProbeNotes)}");
        }

        var failed = rows.Where(r => r.Failed > 0).ToList();
        foreach (var r in failed)
        {
            text.AppendLine(Invariant, $"{r.Case} {r.Label}: {r.Failed} of {r.Runs} migrations did not complete:");
            foreach (string reason in r.Failures)
            {
                text.AppendLine(Invariant, $"  {reason}");
            }
        }

        return text.ToString();
    }

    /// <summary>The origin document's own figures, to read beside the table.</summary>
    public static string OriginDocument() =>
        """
        the origin document (fast-live-migration.rst; QEMU 2.4, real KVM on a Xeon E5-2699 v3, 64 GB, 10 Gbit X540 NIC,
        pktgen sending 64-byte frames at 2013 Mbit/s ≈ 3 Mpps on the wire, downtime limit 10 ms):
          case    baseline QEMU 2.4 total / downtime    after its three changes total / downtime
          idle    2070 ms / 29 ms                       401 ms / 9 ms
          l2fwd   2271 ms / 26 ms                       654 ms / 5 ms
          requirement: total < 2000 ms, downtime < 10 ms (its downtime is QEMU's figure; it states no network-measured gap)
        """;

    /// <summary>Why the figures here are not the document's, with this run's own numbers in it.</summary>
    public static string WhyTheyDiffer(LabOptions options, string accelerator, IReadOnlyList<CaseSummary> rows)
    {
        var rates = rows.Where(r => r.PacketRate is not null).Select(r => $"{r.Label} {Rate(r.PacketRate!.Median)} pps").ToList();
        string achieved = rates.Count > 0 ? $"achieved arrival rate at the sink (median): {string.Join(", ", rates)}"
            : options.NoProbe ? "so no achieved rate either" : "but the agents reported no achieved rate (result.packetRatePps)";
        string probe = options.NoProbe ? "no probe ran (--no-probe), so network downtime is not measured" : $"the probe offered {options.RatePps} frames/s of 64-byte frames, {options.RatePps / 2_996_000.0 * 100:0.###}% of the document's ≈ 3 Mpps";
        return string.Create(Invariant, $"""
            why these differ here:
              - guests run under {accelerator}: every guest instruction is emulated, so a guest's CPU, and the dirtying and
                forwarding it does, is tens of times slower than the document's KVM guest; QEMU's own migration thread is native.
              - 2 cores carry everything: an OVS-DPDK PMD thread per host polls, the guest vCPUs, both QEMUs of a migration,
                the agents, the API, PostgreSQL and the probe's generator and sink all share them.
              - traffic: {probe}; {achieved}.
                The rate is what this machine carries through a TCG guest during migrations, not line rate.
              - the idle guest has {options.IdleMemoryMiB} MiB (the document's text says 8 GiB, its QEMU line 1 GiB); source and target
                RAM live on this one machine{(options.Hugepages ? ", on 2 MiB hugepages as the document's -mem-path /dev/hugepages" : "")}.
              - the two "hosts" are network namespaces joined by veth pairs, not two servers on a 10 Gbit link.
            {PausedCopyNote(rows)}
            """);
    }

    private static string PausedCopyNote(IReadOnlyList<CaseSummary> rows) =>
        rows.Any(r => r.Mode == "paused-copy") ? "  - native ran as a paused copy (no dirty tracker covered every writer of the guest's RAM): its downtime is its whole copy."
        : rows.Any(r => r.Mode == "live") ? "  - native moved the guests live: the engine copied their RAM while they ran, every writer of it (QEMU, ovs-vswitchd) tracked."
        : string.Empty;

    /// <summary>One JSON object of medians per case and transport; <c>runs</c> counts the migrations asked for, the medians are of those that completed.</summary>
    public static string JsonLine(CaseSummary row)
    {
        var text = new StringBuilder();
        text.Append(Invariant, $"{{\"case\":{JsonSerializer.Serialize(row.Case)},\"transport\":{JsonSerializer.Serialize(row.Transport)},\"runs\":{row.Runs}");
        text.Append(Invariant, $",\"totalMs\":{Number(row.Total?.Median, "0.0##")}");
        text.Append(Invariant, $",\"downtimeMs\":{Number(row.Downtime?.Median, "0.0##")}");
        text.Append(Invariant, $",\"networkDowntimeMs\":{Number(row.NetworkDowntime?.Median, "0.0##")}");
        text.Append(Invariant, $",\"framesLost\":{Number(row.FramesLost?.Median, "0.#")}");
        text.Append(Invariant, $",\"packetRatePps\":{Number(row.PacketRate?.Median, "0.0##")}");

        // Extensions after the contract's fields: how the guest moved, and the switch-over's parts.
        text.Append(Invariant, $",\"mode\":{(row.Mode is { } mode ? JsonSerializer.Serialize(mode) : "null")}");
        text.Append(Invariant, $",\"passes\":{Number(row.Passes?.Median, "0.#")}");
        text.Append(Invariant, $",\"pauseMs\":{Number(row.PauseMs?.Median, "0.0##")}");
        text.Append(Invariant, $",\"finalScanMs\":{Number(row.FinalScanMs?.Median, "0.0##")}");
        text.Append(Invariant, $",\"finalTransferMs\":{Number(row.FinalTransferMs?.Median, "0.0##")}");
        text.Append(Invariant, $",\"targetStartMs\":{Number(row.TargetStartMs?.Median, "0.0##")}");
        text.Append(Invariant, $",\"portsUpMs\":{Number(row.PortsUpMs?.Median, "0.0##")}");
        text.Append(Invariant, $",\"trafficMs\":{Number(row.TrafficMs?.Median, "0.0##")}}}");
        return text.ToString();
    }

    private static string Number(double? value, string format) => value is { } v ? v.ToString(format, Invariant) : "null";

    private static string Range(Distribution? d) => d is null ? "-" : $"{Short(d.Min)}–{Short(d.Max)}";

    /// <summary>One decimal for the table: the hypervisors' figures are whole or tenth milliseconds anyway.</summary>
    public static string Short(double? value) => value is { } v ? v.ToString("0.0", Invariant) : "-";

    private static string Count(double? value) => value is { } v ? v.ToString("0.#", Invariant) : "-";

    private static string Rate(double? value) => value is { } v ? v.ToString("0.0", Invariant) : "-";
}
