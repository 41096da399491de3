using System.Runtime.InteropServices;
using System.Text.Json;
using Ferry.Lab;

// The lab of issue 5: the origin document's experiment against a running Ferry (`make run`), over REST only.
// Progress and the table go to stdout; its last lines are one JSON object of medians per case and transport.
var options = LabOptions.Parse(args, out string? error);
if (options is null)
{
    Console.Error.WriteLine($"{error}\n{LabOptions.Usage}");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

var say = Console.Out;
string? apiKey = null;
if (options.ApiKeyFile is { } keyFile)
{
    try
    {
        apiKey = (await File.ReadAllTextAsync(keyFile, stop.Token)).Trim();
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"lab: cannot read the API key in {keyFile}: {e.Message}");
        return 2;
    }
}

using var api = new FerryApiClient(options.Api, apiKey);
try
{
    if (options.FromResults is { } recorded)
    {
        // A report of an earlier run: its outcomes as they were written, nothing migrated now.
        var earlier = RawResults.FromJsonArray(await File.ReadAllTextAsync(recorded, stop.Token));
        say.WriteLine($"lab: reporting {earlier.Count} recorded migrations from {recorded}; nothing is migrated");
        var asRecorded = options with
        {
            Cases = [.. earlier.Select(o => o.Case).Distinct().OrderBy(c => c == "idle" ? 0 : 1)],
            Transports = [.. earlier.Select(o => o.Transport).Distinct()],
            Runs = earlier.Select(o => o.Run).DefaultIfEmpty(0).Max(),
        };
        return await ReportAsync(asRecorded, "TCG (recorded run)", earlier, say, stop.Token);
    }

    string accelerator = await LabAccelerator.OfAsync(api, stop.Token);
    say.WriteLine($"lab: API {options.Api}; {options.Runs} migrations per guest and transport ({string.Join(", ", options.Transports)}), back and forth between host-a and host-b; cases {string.Join(", ", options.Cases)}");
    say.WriteLine($"lab: probe {(options.NoProbe ? "off (--no-probe)" : $"{options.RatePps} frames/s through the forwarding guest")}; guests on {accelerator}; idle guest {options.IdleMemoryMiB} MiB; out {options.OutDirectory}");

    var experiment = new Experiment(api, options, say);
    var outcomes = await experiment.RunAsync(stop.Token);
    if (experiment.Restarts > 0)
    {
        say.WriteLine($"lab: the forwarding guest stopped forwarding after a migration {experiment.Restarts} time(s) and was restarted each time (see the probe's notes)");
    }

    return await ReportAsync(options, accelerator, outcomes, say, stop.Token);
}
catch (LabAbortedException e)
{
    Console.Error.WriteLine($"lab: stopped: {e.Message}");
    return 4;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine("lab: interrupted");
    return 130;
}
catch (JsonException e)
{
    Console.Error.WriteLine($"lab: stopped: the API answered something unexpected: {e.Message}");
    return 4;
}

// The table, the document's figures, raw results, chart, and last the JSON lines; 1 when any migration did not complete.
static async Task<int> ReportAsync(LabOptions options, string accelerator, IReadOnlyList<LabMigrationOutcome> outcomes, TextWriter say, CancellationToken ct)
{
        var rows = (from c in options.Cases from t in options.Transports select CaseSummary.Of(c, t, outcomes)).ToList();

        Directory.CreateDirectory(options.OutDirectory);
        string csv = Path.Combine(options.OutDirectory, "migrations.csv");
        string json = Path.Combine(options.OutDirectory, "migrations.json");
        string chart = Path.Combine(options.OutDirectory, "lab.png");
        await File.WriteAllTextAsync(csv, RawResults.Csv(outcomes), ct);
        await File.WriteAllTextAsync(json, RawResults.JsonArray(outcomes), ct);
        string chartNote;
        try
        {
            LabChart.Write(chart, outcomes, rows, $"{accelerator}, probe {(options.NoProbe ? "off" : $"{options.RatePps} frames/s")}");
            chartNote = chart;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or IOException)
        {
            // The numbers stand without the picture: say why there is none and go on.
            chartNote = $"none ({e.GetType().Name}: {e.Message})";
        }

        say.WriteLine();
        say.Write(LabReport.Table(rows));
        say.WriteLine("(medians and spreads over the completed migrations; total and downtime are the agents' result.totalTimeMs and result.downtimeMs, QEMU's own figures for qemu; net downtime is the probe's gap across the switch-over (result.networkDowntimeMs); lost = frames sent minus received; rate = arrival rate at the sink)");
        say.WriteLine();
        say.WriteLine(LabReport.OriginDocument());
        say.WriteLine();
        say.WriteLine(LabReport.WhyTheyDiffer(options, accelerator, rows));
        say.WriteLine($"raw results: {csv}, {json}; chart: {chartNote}");
        int failed = rows.Sum(r => r.Failed);
        if (failed > 0)
        {
            say.WriteLine($"lab: {failed} migration(s) did not complete; exit status 1");
        }

        foreach (var row in rows)
        {
            say.WriteLine(LabReport.JsonLine(row));
        }

        return failed > 0 ? 1 : 0;
}
