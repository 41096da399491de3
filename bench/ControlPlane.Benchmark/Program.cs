using Ferry.ControlPlane.Benchmark;

// make bench-control-plane: prints one JSON line (see ControlPlaneRun); what it did and saw goes to stderr.
try
{
    // make bench-notifications: "notifications [--subscribers 100] [--migrations 1000] [--agents 200]" (issue 13).
    string line;
    if (args is ["notifications", .. var rest])
    {
        var subscribers = 100;
        var index = Array.IndexOf(rest, "--subscribers");
        if (index >= 0)
        {
            subscribers = index + 1 < rest.Length && int.TryParse(rest[index + 1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 2
                ? n
                : throw new ArgumentException("--subscribers needs an integer of at least 2 (one of them is the dead one)");
            rest = [.. rest[..index], .. rest[(index + 2)..]];
        }

        var defaults = rest.Contains("--agents") ? rest : [.. rest, "--agents", "200"];
        defaults = defaults.Contains("--migrations") ? defaults : [.. defaults, "--migrations", "1000"];
        defaults = defaults.Contains("--warmup") ? defaults : [.. defaults, "--warmup", "200"];
        line = await NotificationRun.RunAsync(ControlPlaneBenchmarkOptions.Parse(defaults), subscribers);
    }
    else
    {
        line = await ControlPlaneRun.RunAsync(ControlPlaneBenchmarkOptions.Parse(args));
    }

    Console.WriteLine(line);
    return 0;
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"bench-control-plane: {e.Message}");
    return 2;
}
