using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.TestGuest;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ferry.Agent.Tests.Support;

/// <summary>
/// A launcher over private run and RAM directories, for tests with real QEMU. Disposing kills every
/// QEMU it started (the launcher alone would let them run) and removes all of its files. Skips the test when there is no QEMU binary.
/// </summary>
internal sealed class QemuHost : IAsyncDisposable
{
    private readonly string _shm;

    private QemuHost(QemuLauncherOptions options)
    {
        _shm = options.TmpfsDirectory;
        Options = options;
        Launcher = new QemuLauncher(
            options,
            new QmpConnector(new QmpClientOptions(), TimeProvider.System, NullLoggerFactory.Instance),
            TimeProvider.System,
            NullLoggerFactory.Instance);
    }

    public QemuLauncherOptions Options { get; }

    public QemuLauncher Launcher { get; }

    public static QemuHost Create(Func<QemuLauncherOptions, QemuLauncherOptions>? configure = null)
    {
        var binary = FindQemu() ?? throw SkipException("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)");
        var tmpfs = Path.Combine("/dev/shm", "fy" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(tmpfs);
        var run = new TestDirectory();
        var options = new QemuLauncherOptions
        {
            QemuBinary = binary,
            RunDirectory = run.Path,
            TmpfsDirectory = tmpfs,
        };
        run.Dispose();
        return new QemuHost(configure is null ? options : configure(options));
    }

    public Task<QemuProcess> LaunchIdleAsync(string guest, string instance, int memoryMiB = 64, bool incoming = false) =>
        Launcher.LaunchAsync(new QemuGuestSpec(guest, instance, memoryMiB, Incoming: incoming), TestContext.Current.CancellationToken);

    public Task<QemuProcess> LaunchPageCounterAsync(string guest, string instance, int memoryMiB, bool incoming = false) =>
        Launcher.LaunchAsync(
            new QemuGuestSpec(guest, instance, memoryMiB, BootDisk: PageCounterBootSector.Build(PageCounterRange.ForGuest(memoryMiB)), Incoming: incoming),
            TestContext.Current.CancellationToken);

    /// <summary>Waits until the page counter has swept its range at least once, which proves it runs.</summary>
    public static async Task WaitUntilCountingAsync(QemuProcess qemu)
    {
        var range = PageCounterRange.ForGuest(qemu.Spec.MemoryMiB);
        var lastPage = range.End - PageCounterRange.PageSize;
        var buffer = new byte[1];
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (qemu.HasExited)
            {
                throw new InvalidOperationException($"QEMU exited: {await qemu.ReadProcessLogAsync()}");
            }

            var counting = (await qemu.ReadSerialLogAsync()).Contains((char)PageCounterBootSector.BootMarker, StringComparison.Ordinal);
            using (var handle = File.OpenHandle(qemu.Layout.RamFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                await RandomAccess.ReadAsync(handle, buffer, lastPage, TestContext.Current.CancellationToken);
            }

            if (counting && buffer[0] != 0)
            {
                return;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"The page counter guest never finished a sweep; serial log: '{await qemu.ReadSerialLogAsync()}'");
    }

    /// <summary>
    /// Stops the guest and checks the page-counter invariant on its RAM file, and that the guest
    /// booted exactly once in its life: once on the QEMU that launched it, never on a migration
    /// target (every test lets the counter run before it migrates). A guest that restarted after a
    /// migration and finished clearing its counters would otherwise pass the memory check.
    /// </summary>
    public static async Task<MemoryInvariantResult> StopAndCheckInvariantAsync(QemuProcess qemu)
    {
        await qemu.Qmp.StopAsync(TestContext.Current.CancellationToken);
        var invariant = await MemoryInvariant.CheckRamFileAsync(qemu.Layout.RamFile, PageCounterRange.ForGuest(qemu.Spec.MemoryMiB), TestContext.Current.CancellationToken);
        var boots = PageCounterBootSector.Boots(await qemu.ReadSerialLogAsync(TestContext.Current.CancellationToken));
        return invariant.WithBoots(boots, expected: qemu.Spec.Incoming ? 0 : 1, qemu.Spec.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        // The launcher lets its QEMUs run when it is disposed (guests outlive their agent); a test's do not.
        foreach (var qemu in Launcher.Running)
        {
            await qemu.DisposeAsync();
        }

        await Launcher.DisposeAsync();
        try
        {
            Directory.Delete(Options.RunDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        Directory.Delete(_shm, recursive: true);
    }

    public static string? FindQemu()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var candidate = Path.Combine(directory, "qemu-system-x86_64");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static Exception SkipException(string reason)
    {
        Assert.Skip(reason);
        return new InvalidOperationException(reason);
    }
}
