using System.CommandLine;
using System.Globalization;
using Ferry.Cli.Output;
using Ferry.Cli.Rest;
using Spectre.Console;

namespace Ferry.Cli.Reports;

/// <summary><c>ferry sla [--from T] [--to T] [--host H]</c>: <c>GET /api/v1/reports/sla</c>.</summary>
internal static class SlaCommand
{
    public static Command Create(CommonOptions options)
    {
        var from = new Option<DateTimeOffset?>("--from") { Description = "Migrations created at or after this time (ISO 8601, e.g. 2026-12-01T08:00:00Z)", HelpName = "TIME" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "Migrations created before this time (ISO 8601)", HelpName = "TIME" };
        var host = new Option<string?>("--host") { Description = "Only migrations from or to this host", HelpName = "HOST" };
        var command = new Command("sla", "SLA report of finished migrations: success rate, SLA met, downtime and total-time percentiles, overall and per host pair")
        {
            from, to, host,
        };
        command.Validators.Add(r =>
        {
            if (r.TryGet(from, out var f) && r.TryGet(to, out var t) && f > t)
            {
                r.AddError("--from must not be after --to");
            }
        });
        command.Run(options, async (parse, session, ct) =>
        {
            var query = new List<string>();
            if (parse.GetValue(from) is { } f)
            {
                query.Add("from=" + Uri.EscapeDataString(f.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)));
            }

            if (parse.GetValue(to) is { } t)
            {
                query.Add("to=" + Uri.EscapeDataString(t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)));
            }

            if (parse.GetValue(host) is { } h)
            {
                query.Add("host=" + Uri.EscapeDataString(h));
            }

            var report = await session.Client.GetAsync("/api/v1/reports/sla" + (query.Count == 0 ? "" : "?" + string.Join('&', query)), ct);
            if (session.Json)
            {
                session.Terminal.WriteJson(report);
                return ExitCodes.Success;
            }

            var document = RestJson.To<SlaReportDocument>(report);
            var table = new Table().Border(TableBorder.Simple).AddColumns("FROM", "TO", "COUNT", "COMPLETED", "FAILED", "CANCELLED", "SUCCESS", "SLA MET",
                "DOWNTIME p50/p95/p99", "TOTAL p50/p95/p99");
            table.Title = new TableTitle("SLA report" + Period(document.From, document.To) + (document.Host is { } hh ? $"  host {hh}" : ""));
            AddRow(table, document.Overall, "all", "all");
            foreach (var pair in document.Pairs)
            {
                AddRow(table, pair, pair.SourceHost ?? Quantities.Unknown, pair.TargetHost ?? Quantities.Unknown);
            }

            session.Terminal.Console.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void AddRow(Table table, SlaFiguresDocument f, string source, string target)
    {
        var met = f.SlaMetFraction is { } fraction
            ? new Text(Quantities.Percent(fraction), new Style(fraction >= 1 ? Color.Green : Color.Red))
            : new Text(Quantities.Unknown);
        table.AddRow(new Text(source), new Text(target), new Text(Quantities.Count(f.Count)), new Text(Quantities.Count(f.Completed)),
            new Text(Quantities.Count(f.Failed)), new Text(Quantities.Count(f.Cancelled)), new Text(Quantities.Percent(f.SuccessRate)), met,
            new Text(Percentiles(f.DowntimeMs)), new Text(Percentiles(f.TotalTimeMs)));
    }

    private static string Percentiles(PercentilesDocument p) =>
        p.P50 is null ? Quantities.Unknown : $"{Quantities.Milliseconds(p.P50)} / {Quantities.Milliseconds(p.P95)} / {Quantities.Milliseconds(p.P99)}";

    /// <summary>The report's period as asked: nothing for all of history, an open end as "since"/"until".</summary>
    private static string Period(DateTimeOffset? from, DateTimeOffset? to) => (from, to) switch
    {
        (null, null) => "  (all finished migrations)",
        ({ } f, null) => $"  since {Quantities.Time(f)}",
        (null, { } t) => $"  until {Quantities.Time(t)}",
        _ => $"  {Quantities.Time(from)} .. {Quantities.Time(to)}",
    };
}
