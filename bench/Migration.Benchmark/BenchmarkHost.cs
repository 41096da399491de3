using System.Collections.Concurrent;
using System.Diagnostics;
using Ferry.Agent.Migration;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Ferry.Agent.Migration.Transports.Qemu;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// What every run shares: options, the accelerator QEMU gets, the agent's QMP connector, qemu
/// transport and QEMU TLS credentials (through their public interfaces, from the agent's own service registration), and a
/// record of every process and file started here so Ctrl-C or a failure leaves nothing behind.
/// </summary>
internal sealed class BenchmarkHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly ConcurrentBag<Process> _processes = [];

    public BenchmarkHost(MigrationBenchmarkOptions options)
    {
        Options = options;
        RunDirectory = Path.Combine("/tmp", options.Id);
        Directory.CreateDirectory(RunDirectory);
        Accelerator = AcceleratorProbe.Probe();
        // The benchmark makes its QEMUs' disks and RAM files itself, as root, not as the launcher does for
        // Ferry:Qemu:RunAs: its QEMUs keep root's user.
        LauncherOptions = new QemuLauncherOptions { RunDirectory = RunDirectory, TmpfsDirectory = "/dev/shm", RunAs = "" };
        var pki = BenchmarkPki.Create(Path.Combine(RunDirectory, "pki"), options.TargetAddress);
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(
            [
                // With prealloc=on QEMU greets on QMP only after touching every page: seconds per GiB here.
                new("Ferry:Qmp:ConnectTimeout", TimeSpan.FromSeconds(30 + (10 * (options.SizeBytes >> 30))).ToString()),

                // The qemu-tls runs: the agent's own TLS credentials for QEMU, from a throwaway cluster CA.
                new("Ferry:Qemu:RunDirectory", RunDirectory),
                new("Ferry:Tls:CaFile", pki.CaFile),
                new("Ferry:Tls:CertificateFile", pki.CertificateFile),
                new("Ferry:Tls:KeyFile", pki.KeyFile),
            ])
            .Build());
        services.AddLogging();
        services.AddFerryQemu();
        _services = services.BuildServiceProvider();
        Qmp = _services.GetRequiredService<IQmpConnector>();
        QemuMigration = _services.GetRequiredService<IQemuMigration>();
        QemuTls = _services.GetRequiredService<IQemuTlsCredentials>();
    }

    public MigrationBenchmarkOptions Options { get; }

    /// <summary>QMP sockets and logs; short, because UNIX socket paths are limited to 108 bytes.</summary>
    public string RunDirectory { get; }

    /// <summary>What QEMU guests run with: the agent's probe for firmware-level guests, until a paced guest shows KVM cannot keep its pace.</summary>
    public AcceleratorChoice Accelerator { get; private set; }

    /// <summary>Runs every later QEMU guest under TCG, saying why.</summary>
    public void FallBackToTcg(string reason) => Accelerator = new AcceleratorChoice(Agent.Qemu.Accelerator.Tcg, reason);

    public QemuLauncherOptions LauncherOptions { get; }

    public IQmpConnector Qmp { get; }

    public IQemuMigration QemuMigration { get; }

    /// <summary>QEMU's TLS credentials for the qemu-tls runs (the same certificate at both ends).</summary>
    public IQemuTlsCredentials QemuTls { get; }

    public string AcceleratorName => Accelerator.Accelerator == Agent.Qemu.Accelerator.Kvm ? "kvm" : "tcg";

    /// <summary>A RAM file path on /dev/shm carrying this invocation's id.</summary>
    public string ShmFile(string role) => Path.Combine("/dev/shm", $"{Options.Id}-{role}.ram");

    public void Track(Process process) => _processes.Add(process);

    public async ValueTask DisposeAsync()
    {
        // Anything a run did not clean up itself (Ctrl-C in the middle, an exception) is killed here.
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None);
                }
            }
            catch (InvalidOperationException)
            {
                // Never started or already reaped.
            }
        }

        foreach (string file in Directory.EnumerateFiles("/dev/shm", $"{Options.Id}-*"))
        {
            File.Delete(file);
        }

        if (Directory.Exists(RunDirectory))
        {
            Directory.Delete(RunDirectory, recursive: true);
        }

        await _services.DisposeAsync();
    }
}
