using System.Globalization;
using Ferry.Cli.Migrations;
using Ferry.Cli.Output;
using Ferry.Cli.Rest;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ferry.Cli.Progress;

/// <summary>
/// The live display of one migration: phase and pass, a bar of transferred against remaining bytes,
/// dirty rate, throughput and expected downtime, and the phases passed so far. Without a terminal it
/// is one line per change instead.
/// </summary>
internal sealed class MigrationProgressView(MigrationDocument migration, string source, bool unicode)
{
    private const int BarWidth = 40;

    private ObservedProgress _last = new(migration.Id, migration.State, null, null, null, null, null, null, migration.UpdatedAt);

    /// <summary>Takes <paramref name="sample"/>; false when it changes nothing shown.</summary>
    public bool Add(ObservedProgress sample)
    {
        sample = sample.KeepFigures(_last);
        var changed = sample.Timeless != _last.Timeless;
        _last = sample;
        return changed;
    }

    public IRenderable Render()
    {
        var s = _last;
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow(new Text("migration"), new Markup(
            $"[bold]{Markup.Escape(migration.Guest)}[/]  {Markup.Escape(migration.SourceHost)} → {Markup.Escape(migration.TargetHost ?? "?")}  [grey]{migration.Id} ({Markup.Escape(source)})[/]"));
        grid.AddRow(new Text("phase"), new Markup(
            $"[{MigrationTables.StateColour(s.State).ToMarkup()} bold]{Markup.Escape(s.State)}[/]   pass {Show(s.Pass)}   [grey]{Quantities.ClockTime(s.At)}[/]"));
        grid.AddRow(new Text("transfer"), new Markup(Bar(s)));
        grid.AddRow(new Text("rates"), new Text(
            $"dirty {Quantities.PagesPerSecond(s.DirtyPagesPerSecond)}   throughput {Quantities.Mbps(s.ThroughputMbps)}   expected downtime {Quantities.Milliseconds(s.ExpectedDowntimeMs)}"));
        grid.AddRow(new Text("phases"), new Markup(Trail(s.State)));
        return new Panel(grid).Border(unicode ? BoxBorder.Rounded : BoxBorder.Ascii).Header("ferry", Justify.Left);
    }

    /// <summary>The sample as one line, for output that is not a terminal.</summary>
    public string Line()
    {
        var s = _last;
        var parts = new List<string> { Quantities.ClockTime(s.At), migration.Guest, s.State };
        if (s.Pass is { } pass)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"pass {pass}"));
        }

        if (s.TransferredFraction is { } fraction)
        {
            parts.Add(Quantities.Percent(fraction));
        }

        if (s.TransferredBytes is { } sent)
        {
            parts.Add($"{Quantities.Bytes(sent)} sent");
        }

        if (s.RemainingBytes is { } left)
        {
            parts.Add($"{Quantities.Bytes(left)} left");
        }

        if (s.DirtyPagesPerSecond is { } dirty)
        {
            parts.Add("dirty " + Quantities.PagesPerSecond(dirty));
        }

        if (s.ThroughputMbps is { } mbps)
        {
            parts.Add(Quantities.Mbps(mbps));
        }

        return string.Join("  ", parts);
    }

    private static string Show(int? n) => n?.ToString(CultureInfo.InvariantCulture) ?? Quantities.Unknown;

    private string Bar(ObservedProgress s)
    {
        if (s.TransferredFraction is not { } fraction)
        {
            var why = s.IsTerminal ? "" : s.State is "running" ? "no transfer figures yet" : "pages move once the target is ready";
            return $"[grey]{new string(unicode ? '━' : '-', BarWidth)}  {why}[/]";
        }

        var filled = (int)Math.Round(fraction * BarWidth);
        var full = unicode ? '━' : '#';
        var empty = unicode ? '━' : '-';
        return $"[green]{new string(full, filled)}[/][grey]{new string(empty, BarWidth - filled)}[/] {Quantities.Percent(fraction)}  "
            + $"{Quantities.Bytes(s.TransferredBytes)} sent, {Quantities.Bytes(s.RemainingBytes)} left";
    }

    /// <summary>The flow's phases: passed ones dim, the current one in its colour.</summary>
    private static string Trail(string state)
    {
        var at = MigrationStates.Flow.ToList().IndexOf(state);
        if (at < 0)
        {
            // cancelling, cancelled, failed: off the flow.
            return $"[{MigrationTables.StateColour(state).ToMarkup()} bold]{Markup.Escape(state)}[/]";
        }

        return string.Join(" › ", MigrationStates.Flow.Select((phase, i) =>
            i < at ? $"[grey]{phase}[/]" : i == at ? $"[{MigrationTables.StateColour(phase).ToMarkup()} bold]{phase}[/]" : $"[dim]{phase}[/]"));
    }
}
