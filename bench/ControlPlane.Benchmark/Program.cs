using Ferry.ControlPlane.Benchmark;

// make bench-control-plane: prints one JSON line (see ControlPlaneRun); what it did and saw goes to stderr.
try
{
    var options = BenchmarkOptions.Parse(args);
    var line = await ControlPlaneRun.RunAsync(options);
    Console.WriteLine(line);
    return 0;
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"bench-control-plane: {e.Message}");
    return 2;
}
