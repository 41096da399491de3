using ScottPlot;
using SkiaSharp;

namespace Ferry.Lab;

/// <summary>
/// The lab's PNG: per migration, total time (top) and downtime, the hypervisor's and the network's (bottom), each case
/// and transport in its own colour, on log scales, with the origin document's 2 s and 10 ms requirement lines.
/// </summary>
internal static class LabChart
{
    private const int Width = 1100;
    private const int PanelHeight = 520;
    private const string FontFile = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    private const string FontName = "DejaVu Sans";

    /// <summary>Drawn where a figure is zero or below, which a log scale cannot show.</summary>
    private const double Floor = 0.1;

    public static void Write(string path, IReadOnlyList<LabMigrationOutcome> outcomes, IReadOnlyList<CaseSummary> rows, string subtitle)
    {
        if (File.Exists(FontFile))
        {
            // Skia without fontconfig finds no system font by name; hand it Debian's DejaVu (fonts-dejavu-core) directly.
            Fonts.AddFontFile(FontName, FontFile);
        }

        var total = Panel($"Total migration time per migration (requirement < 2 s) — {subtitle}", "total time, ms (log)");
        var down = Panel("Downtime per migration: hypervisor (filled) and network-measured (hollow); requirement < 10 ms", "downtime, ms (log)");
        var colors = new[] { Colors.C0, Colors.C1, Colors.C2, Colors.C3, Colors.C4, Colors.C5, Colors.C6, Colors.C7 };
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var color = colors[i % colors.Length];
            var done = outcomes.Where(o => o.Case == row.Case && o.Transport == row.Transport && o.Completed).ToList();

            // Offset each series a little along x so that equal run numbers do not hide one another.
            double shift = (i - ((rows.Count - 1) / 2.0)) * 0.08;
            string name = $"{row.Case} {row.Label}";
            Points(total, done, o => o.TotalMs, shift, color, MarkerShape.FilledCircle, name);
            Points(down, done, o => o.DowntimeMs, shift, color, MarkerShape.FilledSquare, $"{name} (hypervisor)");
            Points(down, done, o => o.NetworkDowntimeMs, shift, color, MarkerShape.OpenCircle, $"{name} (network)");
        }

        Requirement(total, LabReport.RequiredTotalMs, "2 s requirement");
        Requirement(down, LabReport.RequiredDowntimeMs, "10 ms requirement");
        Reference(total, 401, Colors.Gray, "document: idle 401 ms");
        Reference(total, 654, Colors.Black, "document: l2fwd 654 ms");
        Reference(down, 9, Colors.Gray, "document: idle 9 ms");
        Reference(down, 5, Colors.Black, "document: l2fwd 5 ms");
        LogScale(total);
        LogScale(down);

        // Legends inside, where these figures seldom fall (total times are far above 10 ms, downtimes below 1 s),
        // so that both panels keep the same plot area and their migrations line up.
        total.ShowLegend(Alignment.LowerRight);
        down.ShowLegend(Alignment.UpperRight);

        using var surface = SKSurface.Create(new SKImageInfo(Width, PanelHeight * 2));
        surface.Canvas.Clear(SKColors.White);
        Draw(surface.Canvas, total, 0);
        Draw(surface.Canvas, down, PanelHeight);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static Plot Panel(string title, string yLabel)
    {
        var plot = new Plot();
        if (File.Exists(FontFile))
        {
            plot.Font.Set(FontName);
        }

        plot.Title(title, size: 14);
        plot.XLabel("migration (alternately host-a→host-b and back)");
        plot.YLabel(yLabel);
        return plot;
    }

    private static void Points(Plot plot, IReadOnlyList<LabMigrationOutcome> done, Func<LabMigrationOutcome, double?> value, double shift,
        Color color, MarkerShape shape, string legend)
    {
        var measured = done.Where(o => value(o) is not null).ToList();
        if (measured.Count == 0)
        {
            return;
        }

        double[] xs = measured.Select(o => o.Run + shift).ToArray();
        double[] ys = measured.Select(o => Math.Log10(Math.Max(value(o)!.Value, Floor))).ToArray();
        var points = plot.Add.ScatterPoints(xs, ys);
        points.Color = color;
        points.MarkerShape = shape;
        points.MarkerSize = 9;
        points.LegendText = legend;
    }

    private static void Requirement(Plot plot, double ms, string label)
    {
        var line = plot.Add.HorizontalLine(Math.Log10(ms));
        line.Color = Colors.Red;
        line.LinePattern = LinePattern.Dashed;
        line.LineWidth = 2;
        line.LegendText = label;
    }

    private static void Reference(Plot plot, double ms, Color color, string label)
    {
        var line = plot.Add.HorizontalLine(Math.Log10(ms));
        line.Color = color;
        line.LinePattern = LinePattern.Dotted;
        line.LineWidth = 1.5f;
        line.LegendText = label;
    }

    private static void LogScale(Plot plot)
    {
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("#,0.###", System.Globalization.CultureInfo.InvariantCulture),
        };
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.AutoScale();
        var limits = plot.Axes.GetLimits();
        plot.Axes.SetLimits(0.5, Math.Max(limits.Right, 1) + 0.5, Math.Floor(Math.Min(limits.Bottom, 0)), Math.Ceiling(Math.Max(limits.Top, 3.5)) + 0.5);
    }

    private static void Draw(SKCanvas canvas, Plot plot, int top)
    {
        using var bitmap = SKBitmap.Decode(plot.GetImageBytes(Width, PanelHeight, ImageFormat.Png));
        canvas.DrawBitmap(bitmap, 0, top);
    }
}
