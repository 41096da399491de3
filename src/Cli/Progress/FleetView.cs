using Ferry.Cli.Migrations;
using Ferry.Cli.Output;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ferry.Cli.Progress;

/// <summary>Many migrations, one line each (<c>drain</c>, <c>watch</c> of every migration): phase, pass, a bar, and how each ended.</summary>
internal sealed class FleetView(bool unicode)
{
    private const int BarWidth = 20;
    private readonly Dictionary<string, FleetRow> _byKey = new(StringComparer.Ordinal);
    private readonly List<FleetRow> _rows = [];

    public IReadOnlyList<FleetRow> Rows => _rows;

    /// <summary>The row <paramref name="key"/> names (a migration's id, or a guest's name before it has one), added at the end when new.</summary>
    public FleetRow Row(string key, string guest)
    {
        if (!_byKey.TryGetValue(key, out var row))
        {
            row = new FleetRow(guest);
            _byKey[key] = row;
            _rows.Add(row);
        }

        return row;
    }

    public bool Contains(string key) => _byKey.ContainsKey(key);

    public IRenderable Render()
    {
        var table = new Table().Border(unicode ? TableBorder.Rounded : TableBorder.Ascii)
            .AddColumns("GUEST", "ROUTE", "PHASE", "PASS", "TRANSFER", "THROUGHPUT", "TOTAL", "DOWNTIME", "SLA");
        foreach (var row in _rows)
        {
            var s = row.Sample;
            var r = row.Migration?.Result;
            IRenderable sla = r is not null ? MigrationTables.Verdict(r.SlaMet)
                : new Text(row.Note ?? row.Migration?.FailureReason ?? "", new Style(row.HasEnded ? Color.Red : Color.Default));
            table.AddRow(new Text(row.Guest), new Text(row.Route), MigrationTables.State(row.State), new Text(s?.Pass?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Quantities.Unknown),
                new Markup(Bar(row)), new Text(Quantities.Mbps(s?.ThroughputMbps ?? r?.ThroughputMbps)),
                new Text(Quantities.Milliseconds(r?.TotalTimeMs)), new Text(Quantities.Milliseconds(MigrationTables.Downtime(r))), sla);
        }

        return table;
    }

    private string Bar(FleetRow row)
    {
        var fraction = row.State == Rest.MigrationStates.Completed ? 1 : row.Sample?.TransferredFraction;
        if (fraction is not { } f)
        {
            return $"[grey]{new string(unicode ? '━' : '-', BarWidth)}[/]";
        }

        var filled = (int)Math.Round(f * BarWidth);
        return $"[green]{new string(unicode ? '━' : '#', filled)}[/][grey]{new string(unicode ? '━' : '-', BarWidth - filled)}[/] {Quantities.Percent(f)}";
    }
}
