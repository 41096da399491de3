using System.Diagnostics;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// One QEMU process started by the benchmark itself rather than through the agent's launcher:
/// the launcher cannot start a process inside another network namespace, and it creates the RAM
/// file itself where the benchmark must hand QEMU a copy of the image. The argument vector is still
/// the agent's own <see cref="QemuCommandLine"/> (prealloc=on, as the launcher runs guests), with
/// prealloc switched off only on request. Disposing quits or kills it and deletes its files.
/// </summary>
internal sealed class QemuInstance : IAsyncDisposable
{
    private readonly Process _process;
    private readonly QemuInstanceLayout _layout;
    private readonly StreamWriter _log;
    private IQmpClient? _qmp;
    private int _disposed;

    private QemuInstance(Process process, QemuInstanceLayout layout, StreamWriter log)
    {
        _process = process;
        _layout = layout;
        _log = log;
    }

    public IQmpClient Qmp => _qmp ?? throw new InvalidOperationException("QMP is not connected.");

    public string RamFile => _layout.RamFile;

    public static async Task<QemuInstance> StartAsync(
        BenchmarkHost host, string instance, string ramFile, byte[]? bootDisk, bool incoming, string? netns, CancellationToken cancellationToken)
    {
        string directory = Path.Combine(host.RunDirectory, instance);
        Directory.CreateDirectory(directory);
        var layout = new QemuInstanceLayout(directory, Path.Combine(directory, "qmp.sock"), Path.Combine(directory, "serial.log"),
            Path.Combine(directory, "qemu.log"), Path.Combine(directory, "boot.img"), ramFile);
        if (bootDisk is not null)
        {
            // One 1 MiB raw disk whose first sector is the boot sector.
            await using var disk = new FileStream(layout.BootDisk, FileMode.Create, FileAccess.Write);
            await disk.WriteAsync(bootDisk, cancellationToken);
            disk.SetLength(1 << 20);
        }

        // A null byte[] would convert to an empty, non-null ReadOnlyMemory: an empty boot disk instead of none.
        var spec = new QemuGuestSpec("benchguest", instance, (int)(host.Options.SizeBytes >> 20), BootDisk: bootDisk is null ? (ReadOnlyMemory<byte>?)null : bootDisk, Incoming: incoming);
        var arguments = QemuCommandLine.Build(spec, layout, host.Accelerator.Accelerator, host.LauncherOptions)
            .Select(a => !host.Options.QemuPrealloc && a.StartsWith("memory-backend-file,", StringComparison.Ordinal) ? a.Replace(",prealloc=on", ",prealloc=off", StringComparison.Ordinal) : a)
            .ToList();

        var start = new ProcessStartInfo(netns is null ? host.LauncherOptions.QemuBinary : "ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (netns is not null)
        {
            // ip netns exec execs QEMU in place, so the process id is QEMU's own.
            foreach (string a in new[] { "netns", "exec", netns, host.LauncherOptions.QemuBinary })
            {
                start.ArgumentList.Add(a);
            }
        }

        arguments.ForEach(start.ArgumentList.Add);
        var process = Process.Start(start) ?? throw new InvalidOperationException("QEMU did not start");
        host.Track(process);
        var log = new StreamWriter(layout.ProcessLog) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var qemu = new QemuInstance(process, layout, log);
        try
        {
            await qemu.ConnectAsync(host.Qmp, cancellationToken);
        }
        catch
        {
            await qemu.DisposeAsync();
            throw;
        }

        return qemu;
    }

    public async ValueTask DisposeAsync()
    {
        // The qemu transport tears a failed target down itself, and the run's finally does it again.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_qmp is not null)
        {
            try
            {
                if (!_process.HasExited)
                {
                    using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                    await _qmp.QuitAsync(quit.Token);
                }
            }
            catch (Exception e) when (e is QmpException or OperationCanceledException)
            {
                // Already quit by the migration's deferred cleanup, or hung: killed below.
            }

            await _qmp.DisposeAsync();
        }

        if (!_process.WaitForExit(3000))
        {
            _process.Kill();
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }

        File.Delete(_layout.RamFile);
        if (Directory.Exists(_layout.Directory))
        {
            Directory.Delete(_layout.Directory, recursive: true);
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task ConnectAsync(IQmpConnector connector, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            // The socket file appears at bind(), a moment before QEMU listens on it: refused is retried until QEMU is up or gone.
            if (File.Exists(_layout.QmpSocket))
            {
                try
                {
                    _qmp = await connector.ConnectAsync(_layout.QmpSocket, cancellationToken);
                    return;
                }
                catch (QmpException e) when (!_process.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(30) && e.Failure != QmpFailure.Timeout)
                {
                }
                catch (QmpException e)
                {
                    await Task.Delay(200, CancellationToken.None); // let QEMU finish writing why it quit
                    throw new InvalidOperationException($"QEMU did not answer on QMP ({e.Message}): {await ReadLogAsync()}", e);
                }
            }

            if (_process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                string why = File.Exists(_layout.ProcessLog) ? await ReadLogAsync() : "";
                throw new InvalidOperationException($"QEMU exited or did not open QMP within 30 s: {why}");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private async Task<string> ReadLogAsync()
    {
        await using var stream = new FileStream(_layout.ProcessLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
