using System.Globalization;
using Ferry.Agent.Migration;
using Ferry.Agent.Qmp;
using Ferry.Agent.Migration.Transports.Qemu;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// One migration with QEMU's own loop, driven by the agent's qemu transport: source QEMU on a
/// copy of the image (holes kept; prealloc=on then allocates them), target QEMU with -incoming defer (in the target namespace on the
/// shaped link), the same downtime budget as the engine gets, unlimited bandwidth. The figures are
/// QEMU's own (query-migrate total-time and downtime). With <c>tls</c> ("qemu-tls") both QEMUs run
/// QEMU's TLS migration as the agent sets it up with cluster TLS (tls-creds-x509 loaded at the start of the
/// migration, the target's certificate checked by name), so the difference to "qemu" is what encryption costs.
/// </summary>
internal static class QemuRun
{
    public static async Task<RunResult> RunAsync(BenchmarkHost host, RamImage image, int run, bool tls, CancellationToken cancellationToken)
    {
        var options = host.Options;
        string transport = tls ? "qemu-tls" : "qemu";
        string tag = (tls ? "t" : "q") + run.ToString(CultureInfo.InvariantCulture);
        string sourceRam = host.ShmFile(tag + "src"), targetRam = host.ShmFile(tag + "dst");
        await image.CopyToAsync(sourceRam, cancellationToken);
        int port = 20000 + Random.Shared.Next(20000);
        var settings = new MigrationSettings
        {
            DowntimeLimit = options.DowntimeBudget,
            CompletionTimeout = options.RunTimeout,
            PollInterval = TimeSpan.FromMilliseconds(10),

            // A big guest's target can still be loading when the source reports completion; wait for it rather than fail.
            TargetResumeTimeout = options.RunTimeout,
        };
        QemuInstance? source = null, target = null;
        try
        {
            target = await QemuInstance.StartAsync(host, tag + "dst", targetRam, null, incoming: true, options.TargetNetns, cancellationToken);
            var uri = MigrationUri.Tcp(options.TargetAddress, port);
            await host.QemuMigration.PrepareIncomingAsync(target.Qmp, uri, settings, tls ? host.QemuTls.ForTarget(BenchmarkPki.HostName) : null, cancellationToken);
            long startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            source = await QemuInstance.StartAsync(host, tag + "src", sourceRam, image.BootSector, incoming: false, netns: null, cancellationToken);
            string dirty = await image.Profile.SettleQemuAsync(host, source, startedAt, cancellationToken);

            var watched = new BenchmarkTarget(target);
            var result = await host.QemuMigration.MigrateAsync(
                new QemuMigrationRequest(source.Qmp, uri, watched, settings, Tls: tls ? host.QemuTls.ForSource(BenchmarkPki.HostName) : null), cancellationToken);
            var stats = result.Stats;
            bool ok = result.Outcome == MigrationOutcome.Completed && stats is not null;
            return new RunResult(run, transport, ok, ok ? null : result.Reason ?? result.Outcome.ToString(),
                stats?.TotalTimeMs ?? 0, stats?.DowntimeMs ?? 0, result.CleanupTime?.TotalMilliseconds, stats?.SetupTimeMs ?? 0,
                stats?.Passes ?? 0, stats?.TransferredBytes ?? 0, 0,
                string.Create(CultureInfo.InvariantCulture,
                    $"target running after {watched.RunningAfter?.TotalMilliseconds:0} ms wall, zero pages {stats?.ZeroPages}, normal pages {stats?.NormalPages}, {stats?.ThroughputMbps:0} Mbit/s{dirty}"))
            {
                TargetRunningMs = watched.RunningAfter?.TotalMilliseconds,
            };
        }
        finally
        {
            if (source is not null)
            {
                await source.DisposeAsync();
            }

            if (target is not null)
            {
                await target.DisposeAsync();
            }

            File.Delete(sourceRam);
            File.Delete(targetRam);
        }
    }
}
