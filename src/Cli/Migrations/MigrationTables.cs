using System.Globalization;
using Ferry.Cli.Output;
using Ferry.Cli.Rest;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ferry.Cli.Migrations;

/// <summary>Migrations as tables: a list, one in detail, its timeline, its result with the SLA verdict in colour.</summary>
internal static class MigrationTables
{
    public static Table List(IEnumerable<MigrationDocument> migrations)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("ID", "GUEST", "FROM", "TO", "STATE", "TRANSPORT", "TOTAL", "DOWNTIME", "SLA", "CREATED");
        foreach (var m in migrations)
        {
            table.AddRow(
                new Text(m.Id.ToString()), new Text(m.Guest), new Text(m.SourceHost), new Text(m.TargetHost ?? Quantities.Unknown),
                State(m.State), new Text(m.Result?.Transport ?? m.Policy.Transport),
                new Text(Quantities.Milliseconds(m.Result?.TotalTimeMs)), new Text(Quantities.Milliseconds(Downtime(m.Result))),
                m.Result is { } r ? Verdict(r.SlaMet) : new Text(Quantities.Unknown), new Text(Quantities.Time(m.CreatedAt)));
        }

        return table;
    }

    /// <summary>Who, where, what state and under which policy.</summary>
    public static Grid Summary(MigrationDocument m)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow(new Text("migration"), new Text(m.Id.ToString()));
        grid.AddRow(new Text("guest"), new Text($"{m.Guest}  {m.SourceHost} → {m.TargetHost ?? "(the scheduler picks)"}"));
        grid.AddRow(new Text("state"), State(m.State));
        grid.AddRow(new Text("policy"), new Text(Policy(m.Policy)));
        grid.AddRow(new Text("created"), new Text(Quantities.Time(m.CreatedAt)));
        if (m.FailureReason is { } reason)
        {
            grid.AddRow(new Text("reason"), new Text(reason, new Style(Color.Red)));
        }

        return grid;
    }

    public static Table Timeline(MigrationDocument m)
    {
        var table = new Table().Border(TableBorder.Simple).AddColumns("AT", "STATE", "EVENT", "NOTE");
        foreach (var e in m.Timeline)
        {
            table.AddRow(new Text(Quantities.ClockTime(e.At)), State(e.State), new Text(e.Event ?? ""), new Text(e.Note ?? ""));
        }

        return table;
    }

    /// <summary>The end of a migration: its measurements against the policy's limits, and the verdict.</summary>
    public static Table Result(MigrationDocument m)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("").AddColumn("limit").HideHeaders();
        table.Title = new TableTitle($"{m.Guest}  {m.SourceHost} → {m.TargetHost ?? Quantities.Unknown}");
        table.AddRow(new Text("state"), State(m.State), new Text(""));
        if (m.FailureReason is { } reason)
        {
            table.AddRow(new Text("reason"), new Text(reason, new Style(Color.Red)), new Text(""));
        }

        if (m.Result is { } r)
        {
            table.AddRow(new Text("transport"), new Text(r.Transport), new Text(r.TransportReason ?? ""));
            table.AddRow(new Text("total time"), new Text(Quantities.Milliseconds(r.TotalTimeMs)), new Text("max " + Quantities.Milliseconds(m.Policy.MaxTotalTimeMs)));
            table.AddRow(new Text("downtime"), new Text(Quantities.Milliseconds(r.DowntimeMs)), new Text("max " + Quantities.Milliseconds(m.Policy.MaxDowntimeMs)));
            if (r.NetworkDowntimeMs is { } network)
            {
                table.AddRow(new Text("network downtime"), new Text(Quantities.Milliseconds(network)), new Text("judged by this"));
            }

            table.AddRow(new Text("setup"), new Text(Quantities.Milliseconds(r.SetupTimeMs)), new Text(""));
            table.AddRow(new Text("operation"), new Text(Quantities.Milliseconds(r.OperationTimeMs)), new Text("request → completed"));
            table.AddRow(new Text("transferred"), new Text(Quantities.Bytes(r.BytesTransferred)),
                new Text(string.Create(CultureInfo.InvariantCulture, $"{r.Passes} passes, {r.ZeroPages:#,0} zero pages, {r.NormalPages:#,0} normal")));
            table.AddRow(new Text("throughput"), new Text(Quantities.Mbps(r.ThroughputMbps)), new Text(Quantities.PagesPerSecond(r.DirtyPagesPerSecond) + " dirtied"));
            if (r.FramesSent is { } sent)
            {
                table.AddRow(new Text("probe"), new Text($"{Quantities.Count(sent)} frames, {Quantities.Count(r.FramesLost)} lost"), new Text(r.ProbeNote ?? ""));
            }

            table.AddRow(new Text("SLA"), Verdict(r.SlaMet), new Text(""));
        }
        else if (m.State == MigrationStates.Completed)
        {
            table.AddRow(new Text("SLA"), new Text("no result recorded"), new Text(""));
        }

        return table;
    }

    public static IRenderable State(string state) => new Text(state, new Style(StateColour(state)));

    public static Color StateColour(string state) => state switch
    {
        MigrationStates.Completed => Color.Green,
        MigrationStates.Failed => Color.Red,
        MigrationStates.Cancelled or "cancelling" => Color.Yellow,
        _ => Color.Aqua,
    };

    public static IRenderable Verdict(bool slaMet) =>
        slaMet ? new Text("met", new Style(Color.Green, decoration: Decoration.Bold)) : new Text("missed", new Style(Color.Red, decoration: Decoration.Bold));

    /// <summary>The downtime the SLA judges: the network's where a probe measured it.</summary>
    public static double? Downtime(ResultDocument? r) => r is null ? null : r.NetworkDowntimeMs ?? r.DowntimeMs;

    private static string Policy(PolicyDocument p)
    {
        var text = $"downtime ≤ {Quantities.Milliseconds(p.MaxDowntimeMs)}, total ≤ {Quantities.Milliseconds(p.MaxTotalTimeMs)}, transport {p.Transport}";
        if (p.BandwidthMbps is { } bandwidth)
        {
            text += ", bandwidth " + Quantities.Mbps(bandwidth);
        }

        if (p.ProbeRatePps is { } pps)
        {
            text += $", probe {Quantities.Count(pps)} frames/s";
        }

        return text;
    }
}
