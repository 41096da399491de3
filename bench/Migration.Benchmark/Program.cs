using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Ferry.Agent.Qmp;
using Ferry.Migration.Benchmark;

// The side-by-side migration benchmark (issue 4): the same RAM image migrated by QEMU's own loop (plain and
// over its TLS) and by Ferry's engine, alternating, several times; a per-run table, then one JSON line of medians.
var options = MigrationBenchmarkOptions.Parse(args, out string? error);
if (options is null)
{
    Console.Error.WriteLine($"{error}\n{MigrationBenchmarkOptions.Usage}");
    return 2;
}

if (MemoryBudget.Refusal(options.SizeBytes) is { } refusal)
{
    Console.Error.WriteLine($"refused: SIZE={options.SizeLabel}: {refusal}");
    return 3;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // let the finally blocks remove every process and file first
    stop.Cancel();
};
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

await using var host = new BenchmarkHost(options);
var say = Console.Out;
say.WriteLine($"accelerator: {host.AcceleratorName.ToUpperInvariant()} ({host.Accelerator.Reason}); QEMU guests run {(host.AcceleratorName == "tcg" ? "under TCG (no /dev/kvm here): guest CPU is emulated, migration threads are native" : "under KVM")}");
say.WriteLine($"link: {options.LinkDetail}");
say.WriteLine($"size {options.SizeLabel}, profile {options.Profile}, link {options.Link}{(options.TargetNetns is null ? "" : $" (target namespace {options.TargetNetns}, {options.TargetAddress})")}, runs {options.Runs}, downtime budget {options.DowntimeBudget.TotalMilliseconds} ms for both, engine streams {options.Streams}, QEMU 1 stream{(options.QemuTls ? " (plain, and over its TLS as qemu-tls)" : "")}, QEMU memory-backend-file prealloc={(options.QemuPrealloc ? "on (the agent launcher's setting)" : "off")}");
try
{
    var (profile, refused) = await BenchmarkGuestProfile.CreateAsync(host, stop.Token);
    if (profile is null)
    {
        Console.Error.WriteLine($"refused: PROFILE={options.Profile}: {refused}");
        return 3;
    }

    say.WriteLine($"dirtying: {profile.DirtyMethod}");
    var image = await RamImage.BuildAsync(host, profile, stop.Token);
    say.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"image: {image.AllocatedBytes >> 10} KiB non-zero of {options.SizeBytes >> 20} MiB (idle QEMU boot RAM + the workload's state), copied with holes into both sources each run{(options.QemuPrealloc ? " (QEMU's prealloc then allocates its copy's holes; the bytes stay the same)" : "")}"));

    var results = new List<RunResult>();
    var warmUp = new List<RunResult>();

    // Run 0 of each transport is a warm-up, shown but left out of the medians: the agent is a
    // long-running process whose migration code is JIT-compiled once, and QEMU's binary and the
    // page cache are cold on the first start too.
    string[] transports = options.QemuTls ? ["native", "qemu", "qemu-tls"] : ["native", "qemu"];
    for (int run = 0; run <= options.Runs; run++)
    {
        // Rotate which goes first, so none always meets a warmer or a more fragmented page cache.
        foreach (string transport in transports.Skip(run % transports.Length).Concat(transports.Take(run % transports.Length)))
        {
            bool qemu = transport != "native", tls = transport == "qemu-tls";
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
            bound.CancelAfter(options.RunTimeout + options.Settle + TimeSpan.FromSeconds(60));
            RunResult result;
            double load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
            try
            {
                result = qemu ? await QemuRun.RunAsync(host, image, run, tls, bound.Token) : await NativeRun.RunAsync(host, image, run, bound.Token);
            }
            catch (ProfileMismatchException e) when (e.QemuGuestUnderKvm)
            {
                // The probe's KVM runs boot-sector code, but this one is paced by the PIT, which some KVMs
                // (kvm_pvm's) do not keep: the QEMU guest runs under TCG from here on, and this run again.
                host.FallBackToTcg($"KVM ran the boot sector but not at its PIT pace ({e.Message}); QEMU guests run under TCG");
                say.WriteLine($"accelerator: TCG from run {run} on: {host.Accelerator.Reason}");
                result = await QemuRun.RunAsync(host, image, run, tls, bound.Token);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                result = new RunResult(run, transport, false, "run exceeded its time bound", 0, 0, null, 0, 0, 0, 0, "");
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or QmpException or SocketException)
            {
                // One broken run is reported as failed and left out of the medians; the set goes on.
                result = new RunResult(run, transport, false, e.Message.ReplaceLineEndings(" "), 0, 0, null, 0, 0, 0, 0, "");
            }

            result = result with { LoadAverage = load };
            (run == 0 ? warmUp : results).Add(result);
            say.WriteLine($"  run {run}{(run == 0 ? " (warm-up)" : "")} {result.Transport}: {(result.Succeeded ? string.Create(CultureInfo.InvariantCulture, $"total {result.TotalMs:0.0} ms, downtime {result.DowntimeMs:0.000} ms") : "FAILED: " + result.Failure)}");
        }
    }

    say.WriteLine();
    say.WriteLine("warm-up (not in the medians):");
    say.Write(Report.Table(warmUp));
    say.WriteLine("measured runs:");
    say.Write(Report.Table(results));
    say.WriteLine($"(qemu figures: QEMU's query-migrate total-time/downtime, whole ms, downtime measured on the source up to the end of its last send; qemu-tls: the same over QEMU's TLS migration (tls-creds-x509, cluster CA); native: engine MigrationResult, downtime = pause -> target's running ack, its streams authenticated, not encrypted; accelerator {host.AcceleratorName})");
    say.WriteLine(Report.Json(options, host.AcceleratorName, profile.DirtyMethod, results));
    return results.All(r => r.Succeeded) ? 0 : 1;
}
catch (ProfileMismatchException e)
{
    Console.Error.WriteLine($"refused: PROFILE={options.Profile}: {e.Message}");
    return 3;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine("interrupted; every process and file of this run was removed");
    return 130;
}
