using System.Collections.Concurrent;
using Ferry.Agent.Qmp;
using Ferry.Transfer.Interop;
using Ferry.Transfer.Memory;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Qemu;

internal sealed partial class QemuLauncher : IQemuLauncher
{
    private static readonly TimeSpan QmpRetryInterval = TimeSpan.FromMilliseconds(20);

    private readonly QemuLauncherOptions _options;
    private readonly IQmpConnector _qmp;
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, QemuProcess> _running = new(StringComparer.Ordinal);
    private readonly QemuUser? _runAs;
    private readonly AcceleratorChoice _firmware;
    private readonly Lazy<AcceleratorChoice> _linux;

    public QemuLauncher(QemuLauncherOptions options, IQmpConnector qmp, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        _qmp = qmp;
        _timeProvider = timeProvider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<QemuLauncher>();
        var runAs = QemuRunAs.Resolve(options);
        _runAs = runAs.User;
        if (runAs.Problem is { } problem)
        {
            Log.NotRunningAs(_logger, options.RunAs, problem);
        }
        else if (_runAs is { } user)
        {
            Log.RunningAs(_logger, user.Name, user.Uid);
        }

        // Every command line this launcher builds names the user QEMU really drops to, or none.
        _options = options with { RunAs = _runAs?.Name ?? string.Empty };
        _firmware = options.ForceAccelerator is { } forced
            ? new AcceleratorChoice(forced, "forced by configuration")
            : AcceleratorProbe.Probe(options.KvmDevice);
        Log.AcceleratorChosen(_logger, GuestKind.Firmware, _firmware.Accelerator, _firmware.Reason);
        _linux = new Lazy<AcceleratorChoice>(ChooseForLinux);
    }

    /// <summary>The QEMUs started or adopted and not yet disposed or released.</summary>
    internal IReadOnlyList<QemuProcess> Running => [.. _running.Values];

    public AcceleratorChoice AcceleratorFor(GuestKind kind) => kind == GuestKind.Linux ? _linux.Value : _firmware;

    /// <summary>
    /// A Linux kernel needs more of KVM than firmware-level code does, so a usable KVM device is probed
    /// once more with the kernel the guests boot; without a Linux image configured there is nothing to
    /// boot and no Linux guest to run.
    /// </summary>
    private AcceleratorChoice ChooseForLinux()
    {
        AcceleratorChoice choice;
        if (_options.ForceAccelerator is not null || _firmware.Accelerator == Qemu.Accelerator.Tcg)
        {
            choice = _firmware;
        }
        else if (Path.Combine(_options.ForwardingGuestImage, "vmlinuz") is var kernel && (_options.ForwardingGuestImage.Length == 0 || !File.Exists(kernel)))
        {
            choice = _firmware with { Reason = $"{_firmware.Reason}; not probed with a Linux kernel: no Linux guest image is configured (Ferry:Qemu:ForwardingGuestImage)" };
        }
        else
        {
            choice = LinuxBootProbe.Probe(_options, kernel);
        }

        Log.AcceleratorChosen(_logger, GuestKind.Linux, choice.Accelerator, choice.Reason);
        return choice;
    }

    public async Task<QemuProcess> LaunchAsync(QemuGuestSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var layout = QemuInstanceLayout.For(_options, spec);
        var accelerator = AcceleratorFor(spec.Kind);
        var arguments = QemuCommandLine.Build(spec, layout, accelerator.Accelerator, _options);
        if (_running.ContainsKey(spec.Instance))
        {
            throw new InvalidOperationException($"QEMU instance '{spec.Instance}' is already running.");
        }

        // The QMP socket inside is root-equivalent: only the agent's user may reach it.
        if (OperatingSystem.IsLinux())
        {
            Directory.CreateDirectory(layout.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (_runAs is not null)
            {
                // QEMU's user reaches its own files beside the instance directories (search only: it lists
                // nothing here and enters no instance directory, 0700).
                File.SetUnixFileMode(_options.RunDirectory, File.GetUnixFileMode(_options.RunDirectory) | UnixFileMode.OtherExecute);
            }
        }
        else
        {
            throw new PlatformNotSupportedException("QEMU guests run on Linux hosts only.");
        }

        // Leftovers of a crashed earlier instance of the same name would confuse QMP and prealloc.
        File.Delete(layout.QmpSocket);

        // Guest RAM: in a directory only the agent's user enters, in a file made here, exclusively, 0600 and
        // for QEMU's user, never one found in place (a planted file or symlink fails the launch).
        RamFiles.EnsurePrivateDirectory(Path.GetDirectoryName(layout.RamFile)!);
        File.Delete(layout.RamFile);
        try
        {
            RamFiles.CreateExclusive(layout.RamFile, _runAs is { } user ? (user.Uid, user.Gid) : null);
        }
        catch (IOException ex)
        {
            throw new QemuLaunchException(ex.Message, ex);
        }

        if (spec.BootDisk is { } disk)
        {
            await WriteBootDiskAsync(layout, disk, cancellationToken);
        }

        await File.WriteAllLinesAsync(layout.ArgumentsFile, arguments.Prepend(_options.QemuBinary), cancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(layout.Directory, QemuInstanceRecord.FileName), QemuInstanceRecord.Of(spec, layout, accelerator).ToJson(), cancellationToken);

        // QEMU inherits the agent's environment; the dirty tracker's preload library goes in front of any the agent was started with.
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (System.Environment.GetEnvironmentVariable("LD_PRELOAD") is { Length: > 0 } inherited)
        {
            environment["LD_PRELOAD"] = inherited;
        }

        DirtyTrackerPreload.Apply(environment, _options.PreloadDirtyTracker);
        var start = new ChildProcessStart(_options.QemuBinary, arguments)
        {
            Environment = environment,
            WorkingDirectory = layout.Directory,
            OutputFile = layout.ProcessLog,
        };
        if (!ChildProcess.TryStart(start, out var process, out var failure))
        {
            throw new QemuLaunchException(failure);
        }

        var qemu = new QemuProcess(spec, layout, accelerator, arguments, process, _logger, p => _running.TryRemove(p.Spec.Instance, out _));
        _running[spec.Instance] = qemu;
        Log.Started(_logger, spec.Instance, qemu.Pid, accelerator.Accelerator, spec.Incoming);
        try
        {
            qemu.AttachQmp(await ConnectQmpAsync(qemu, cancellationToken));
            return qemu;
        }
        catch
        {
            await qemu.DisposeAsync();
            throw;
        }
    }

    public async Task<QemuProcess> AdoptAsync(int pid, QemuInstanceRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var spec = record.ToSpec();
        var layout = QemuInstanceLayout.For(_options, spec) with { RamFile = record.RamFile };
        if (_running.ContainsKey(spec.Instance))
        {
            throw new InvalidOperationException($"QEMU instance '{spec.Instance}' is already running.");
        }

        var handle = ProcessHandle.Open(pid) ?? throw new QemuLaunchException($"QEMU {spec.Instance} (pid {pid}) exited before it could be adopted.");
        var arguments = File.Exists(layout.ArgumentsFile) ? (await File.ReadAllLinesAsync(layout.ArgumentsFile, cancellationToken)).Skip(1).ToList() : [];
        var qemu = QemuProcess.Adopt(spec, layout, new AcceleratorChoice(record.Accelerator, record.AcceleratorReason), arguments, handle, _logger, p => _running.TryRemove(p.Spec.Instance, out _));
        try
        {
            qemu.AttachQmp(await _qmp.ConnectAsync(layout.QmpSocket, cancellationToken));
        }
        catch
        {
            // Not ours to kill: it is a guest that would not talk, and the caller decides what that means.
            // The pidfd stays open while the QEMU lives: its exit watch polls it, and a closed descriptor's
            // number could name another file by then.
            await qemu.Release();
            throw;
        }

        _running[spec.Instance] = qemu;
        Log.Adopted(_logger, spec.Instance, pid, record.Accelerator);
        return qemu;
    }

    public async ValueTask DisposeAsync()
    {
        // The agent stops, its guests do not: the next agent adopts them. Each QEMU's QMP connection is
        // closed so that its monitor is free for that agent.
        foreach (var (_, qemu) in _running)
        {
            await qemu.Release();
        }
    }

    /// <summary>
    /// The boot disk is QEMU's user's, 0600, in a directory of that user's own: QEMU opens it at start as
    /// root, but at a migration's switch-over QEMU 7.2 reopens it by path to change its access mode
    /// (inactivating a node drops its write permission, the target's activation takes it back, and
    /// file-posix cannot change an open descriptor's mode), by then as the dropped user. Root's 0644 disk in
    /// the 0700 instance directory failed exactly there ("bdrv_inactivate_all() failed (-1)", the target's
    /// "load of migration failed"); the same disk owned by that user in a directory it can reach migrated.
    /// Passing descriptors instead (<c>-add-fd</c>, one read-only and one read-write, as libvirt does) would
    /// need them inherited at exec, and a .NET process cannot give a child a chosen descriptor without every
    /// other child started meanwhile (ovs-vsctl, other guests' QEMUs) inheriting it too. What this leaves:
    /// every QEMU runs as the same user, so a subverted QEMU could open another guest's disk by path, as
    /// under libvirt's DAC model without sVirt; guest RAM files stay out of its reach (0700 root directory).
    /// </summary>
    private async Task WriteBootDiskAsync(QemuInstanceLayout layout, ReadOnlyMemory<byte> disk, CancellationToken cancellationToken)
    {
        try
        {
            var owner = _runAs is { } user ? (user.Uid, user.Gid) : ((uint, uint)?)null;
            RamFiles.EnsureDirectoryFor(layout.UserDirectory, owner);
            File.Delete(layout.BootDisk);
            RamFiles.CreateExclusive(layout.BootDisk, owner);
            await using var file = new FileStream(layout.BootDisk, FileMode.Open, FileAccess.Write);
            await file.WriteAsync(disk, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new QemuLaunchException($"Cannot write the boot disk {layout.BootDisk}: {ex.Message}", ex);
        }
    }

    private async Task<IQmpClient> ConnectQmpAsync(QemuProcess qemu, CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();
        var limit = _options.StartTimeout + (_options.StartTimeoutPerGiB * Math.Ceiling(qemu.Spec.MemoryMiB / 1024.0));
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (qemu.HasExited)
            {
                throw new QemuLaunchException($"QEMU {qemu.Spec.Instance} exited with code {await qemu.Exited} during start: {Tail(await qemu.ReadProcessLogAsync(cancellationToken))}");
            }

            if (File.Exists(qemu.Layout.QmpSocket))
            {
                try
                {
                    return await _qmp.ConnectAsync(qemu.Layout.QmpSocket, cancellationToken);
                }
                catch (QmpException ex) when (ex.Failure is QmpFailure.ConnectionClosed or QmpFailure.Timeout)
                {
                    // The socket file exists a moment before QEMU listens on it, and QEMU greets only
                    // once preallocation is done; both are worth another try until the start deadline.
                }
            }

            if (_timeProvider.GetElapsedTime(started) > limit)
            {
                throw new QemuLaunchException($"QEMU {qemu.Spec.Instance} did not open QMP within {limit}: {Tail(await qemu.ReadProcessLogAsync(cancellationToken))}");
            }

            await Task.WhenAny(qemu.Exited, Task.Delay(QmpRetryInterval, _timeProvider, cancellationToken));
        }
    }

    private static string Tail(string log) => log.Length <= 2000 ? log.Trim() : log[^2000..].Trim();

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.QemuAcceleratorChosen, Level = LogLevel.Information, Message = "{Kind} guests run with {Accelerator}: {Reason}")]
        public static partial void AcceleratorChosen(ILogger logger, GuestKind kind, Accelerator accelerator, string reason);

        [LoggerMessage(EventId = AgentEventIds.QemuAdopted, Level = LogLevel.Warning, Message = "QEMU {Instance} (pid {Pid}, {Accelerator}), started by an earlier life of this agent, adopted")]
        public static partial void Adopted(ILogger logger, string instance, int pid, Accelerator accelerator);

        [LoggerMessage(EventId = AgentEventIds.QemuNotRunningAs, Level = LogLevel.Warning, Message = "QEMU does not drop to Ferry:Qemu:RunAs '{RunAs}' and runs as the agent's user: {Problem}. Set Ferry:Qemu:RequireRunAs=true to refuse to start instead")]
        public static partial void NotRunningAs(ILogger logger, string runAs, string problem);

        [LoggerMessage(EventId = AgentEventIds.QemuRunningAs, Level = LogLevel.Information, Message = "QEMU drops to user {User} (uid {Uid}) once started")]
        public static partial void RunningAs(ILogger logger, string user, uint uid);

        [LoggerMessage(EventId = AgentEventIds.QemuStarted, Level = LogLevel.Information, Message = "QEMU {Instance} started (pid {Pid}, {Accelerator}, incoming {Incoming})")]
        public static partial void Started(ILogger logger, string instance, int pid, Accelerator accelerator, bool incoming);
    }
}
