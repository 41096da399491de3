using System.Globalization;
using System.Net;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Migration;
using Ferry.Transfer.Protocol;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// One migration with Ferry's engine: the workload guest on a sparse copy of the image, tracked by
/// userfaultfd write-protect + PAGEMAP_SCAN, sent to a destination whose listener lives in the
/// target namespace on the shaped link; the target workload (started with --incoming before the
/// migration, as QEMU's -incoming target is) resumes when the destination has every page. Figures
/// are the engine's <c>EngineResult</c>: downtime from pause to the target's running ack, cleanup apart.
/// </summary>
internal static class NativeRun
{
    public static async Task<RunResult> RunAsync(BenchmarkHost host, RamImage image, int run, CancellationToken cancellationToken)
    {
        var options = host.Options;
        string tag = "n" + run.ToString(CultureInfo.InvariantCulture);
        string sourceRam = host.ShmFile(tag + "src"), targetRam = host.ShmFile(tag + "dst");
        await image.CopyToAsync(sourceRam, cancellationToken);
        WorkloadGuest? source = null, target = null;
        GuestMemory? sourceMemory = null, targetMemory = null;
        try
        {
            targetMemory = GuestMemory.Create(targetRam, options.SizeBytes);
            target = await WorkloadGuest.StartAsync(host, targetRam, [.. image.Profile.WorkloadArguments, "--incoming"]);
            long startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            source = await WorkloadGuest.StartAsync(host, sourceRam, image.Profile.WorkloadArguments);
            sourceMemory = GuestMemory.Open(sourceRam);
            if (!DirtyTracking.TryOpen(source.Pid, sourceMemory, out var tracker, out var report))
            {
                throw new ProfileMismatchException("no dirty tracker works here: " + string.Join("; ", report));
            }

            string dirty;
            try
            {
                dirty = await image.Profile.SettleNativeAsync(host, tracker!, sourceMemory, startedAt, cancellationToken);
            }
            catch
            {
                tracker!.Dispose(); // the migration takes ownership only once it is constructed
                throw;
            }

            var credentials = MigrationCredentials.CreateRandom(Guid.NewGuid());
            using var listener = BenchmarkNetworkNamespace.Listen(options.TargetNetns, options.TargetAddress);
            var endPoint = (IPEndPoint)listener.LocalEndpoint;
            var destination = new DestinationMigration(targetMemory, credentials, options.Streams, TimeSpan.FromSeconds(10))
            {
                SwitchoverSoon = target.AnnounceStart,
            };
            var receiving = Task.Run(() => destination.RunAsync(listener, (_, _) =>
            {
                try
                {
                    target.StartIncoming();
                }
                catch (Exception e) when (e is InvalidDataException or InvalidOperationException or TimeoutException)
                {
                    throw new IOException($"target workload: {e.Message}", e);
                }

                return Task.CompletedTask;
            }, cancellationToken), CancellationToken.None);
            var migration = new SourceMigration(sourceMemory, tracker!, source, credentials, new MigrationOptions
            {
                Streams = options.Streams,
                DowntimeBudget = options.DowntimeBudget,
                CompletionTimeout = options.RunTimeout,
                FreeSourceRam = true,
            });

            var result = await migration.RunAsync(endPoint, cancellationToken);
            var received = await receiving;
            bool ok = result.Succeeded && received.Succeeded;
            var s = result.Switchover;
            return new RunResult(run, "native", ok, ok ? null : result.FailureReason ?? received.FailureReason,
                result.TotalTime.TotalMilliseconds, result.Downtime.TotalMilliseconds, result.CleanupTime.TotalMilliseconds,
                result.SetupTime.TotalMilliseconds, result.Passes, result.BytesSent, result.FinalPassPages,
                string.Create(CultureInfo.InvariantCulture,
                    $"pages sent {result.PagesSent}, zero/skipped {result.ZeroPages}, {result.Bandwidth * 8 / 1e6:0} Mbit/s, downtime = pause {s?.Pause.TotalMilliseconds:0.000} + scan {s?.FinalScan.TotalMilliseconds:0.000} + final {s?.FinalTransfer.TotalMilliseconds:0.000} + target start {s?.TargetStart.TotalMilliseconds:0.000} ms (target guest's own start {received.GuestStart.TotalMilliseconds:0.000} ms){dirty}"));
        }
        finally
        {
            source?.Dispose();
            target?.Dispose();
            sourceMemory?.Dispose();
            targetMemory?.Dispose();
            File.Delete(sourceRam);
            File.Delete(targetRam);
        }
    }
}
