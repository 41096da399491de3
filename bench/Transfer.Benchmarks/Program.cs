using BenchmarkDotNet.Running;

// dotnet run -c Release -- --filter '*Zero*' [--job short|dry]
// In-process, because BenchmarkDotNet looks for a project named after the assembly
// (Ferry.Transfer.Benchmarks.csproj) and the repository names projects without the prefix.
string[] arguments = args.Contains("--inProcess") ? args : [.. args, "--inProcess"];
BenchmarkSwitcher.FromAssembly(typeof(Ferry.Transfer.Benchmarks.Zero.ZeroScanBenchmarks).Assembly).Run(arguments);
