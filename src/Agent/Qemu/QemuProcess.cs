using Ferry.Agent.Qmp;
using Ferry.Transfer.Interop;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Qemu;

/// <summary>
/// A running QEMU: its QMP connection, its files and its exit. Disposing kills it (if it still runs),
/// waits for the exit and frees the RAM file; the serial and process logs stay for diagnosis.
/// <see cref="Release"/> instead lets it go on running without this agent (agent shutdown). A QEMU is
/// either this agent's child or adopted from an earlier life of the agent (<see cref="Adopted"/>): then
/// it is held by a pidfd, its exit code is unknown (<see cref="UnknownExitCode"/>) and its output went
/// to the earlier agent.
/// </summary>
public sealed partial class QemuProcess : IAsyncDisposable
{
    /// <summary>The exit code of an adopted QEMU: only a parent learns the real one.</summary>
    public const int UnknownExitCode = -1;

    /// <summary>How often the exit of an adopted QEMU is looked for; a pidfd is polled, not awaited.</summary>
    private static readonly TimeSpan AdoptedExitPoll = TimeSpan.FromMilliseconds(250);

    private readonly ChildProcess? _process;
    private readonly ProcessHandle? _handle;
    private readonly Task _logPump;
    private readonly ILogger _logger;
    private readonly Action<QemuProcess> _onDisposed;
    private IQmpClient? _qmp;
    private int _disposed;

    internal QemuProcess(
        QemuGuestSpec spec,
        QemuInstanceLayout layout,
        AcceleratorChoice accelerator,
        IReadOnlyList<string> arguments,
        ChildProcess process,
        ILogger logger,
        Action<QemuProcess> onDisposed)
    {
        Spec = spec;
        Layout = layout;
        Accelerator = accelerator;
        Arguments = arguments;
        _process = process;
        _logPump = process.OutputClosed;
        _logger = logger;
        _onDisposed = onDisposed;
        Pid = process.Pid;
        Exited = process.Exited;
        _ = ReportUnexpectedExitAsync();
    }

    private QemuProcess(QemuGuestSpec spec, QemuInstanceLayout layout, AcceleratorChoice accelerator, IReadOnlyList<string> arguments, ProcessHandle handle, ILogger logger, Action<QemuProcess> onDisposed)
    {
        Spec = spec;
        Layout = layout;
        Accelerator = accelerator;
        Arguments = arguments;
        _handle = handle;
        _logPump = Task.CompletedTask;
        _logger = logger;
        _onDisposed = onDisposed;
        Pid = handle.Pid;
        Adopted = true;
        Exited = WaitForExitAsync(handle);
        _ = ReportUnexpectedExitAsync();
    }

    /// <summary>A QEMU an earlier life of this agent started, held through <paramref name="handle"/> from now on.</summary>
    internal static QemuProcess Adopt(QemuGuestSpec spec, QemuInstanceLayout layout, AcceleratorChoice accelerator, IReadOnlyList<string> arguments, ProcessHandle handle, ILogger logger,
        Action<QemuProcess> onDisposed) => new(spec, layout, accelerator, arguments, handle, logger, onDisposed);

    /// <summary>True when an earlier life of this agent started this QEMU and this one adopted it.</summary>
    public bool Adopted { get; }
    public QemuGuestSpec Spec { get; }

    public QemuInstanceLayout Layout { get; }

    /// <summary>What this QEMU runs its guest with, and why the agent chose it.</summary>
    public AcceleratorChoice Accelerator { get; }

    public IReadOnlyList<string> Arguments { get; }

    public int Pid { get; }

    /// <summary>Completes with the exit code (128 + signal for a signal) when QEMU ends, for whatever reason.</summary>
    public Task<int> Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    public IQmpClient Qmp => _qmp ?? throw new InvalidOperationException("QMP is not connected yet.");

    internal void AttachQmp(IQmpClient qmp) => _qmp = qmp;

    /// <summary>SIGKILL, no questions: for teardown and for tests that simulate a crash.</summary>
    public void Kill()
    {
        if (_handle is not null)
        {
            // Through the pidfd: reaches this QEMU or nobody, never a process that got its pid later.
            _handle.Kill();
            return;
        }

        _process!.Kill();
    }

    /// <summary>
    /// Lets the QEMU run on without this agent: the QMP connection is closed (the monitor is free for the
    /// next agent, which adopts the QEMU), nothing is killed or deleted. For the agent's shutdown: a guest
    /// outlives the daemon that manages it, as a VM outlives a restarted libvirtd.
    /// </summary>
    public async ValueTask Release()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_qmp is not null)
        {
            await _qmp.DisposeAsync();
        }

        Log.Released(_logger, Spec.Instance, Pid);
        _onDisposed(this);
    }

    /// <summary>
    /// Asks QEMU to quit over QMP and waits up to <paramref name="grace"/> for the exit; kills it
    /// otherwise. Returns the exit code. Files are freed by <see cref="DisposeAsync"/>.
    /// </summary>
    public async Task<int> StopAsync(TimeSpan grace, CancellationToken cancellationToken = default)
    {
        if (!HasExited && _qmp is not null)
        {
            try
            {
                await _qmp.QuitAsync(cancellationToken);
                return await Exited.WaitAsync(grace, cancellationToken);
            }
            catch (Exception ex) when (ex is QmpException or TimeoutException)
            {
                // Not answering or not exiting: the hard way.
            }
        }

        Kill();
        return await Exited.WaitAsync(cancellationToken);
    }

    public async Task<string> ReadSerialLogAsync(CancellationToken cancellationToken = default) =>
        File.Exists(Layout.SerialLog) ? await File.ReadAllTextAsync(Layout.SerialLog, cancellationToken) : string.Empty;

    public async Task<string> ReadProcessLogAsync(CancellationToken cancellationToken = default)
    {
        if (HasExited)
        {
            // The exit can be seen before the pump wrote QEMU's last words (why it failed to start).
            try
            {
                await _logPump.WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (TimeoutException)
            {
            }
        }

        try
        {
            await using var stream = new FileStream(Layout.ProcessLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return await reader.ReadToEndAsync(cancellationToken);
        }
        catch (FileNotFoundException)
        {
            return string.Empty;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_qmp is not null)
        {
            await _qmp.DisposeAsync();
        }

        Kill();
        var code = await Exited;
        await _logPump;
        _process?.Dispose();
        _handle?.Dispose();
        TryDelete(Layout.RamFile);
        TryDelete(Layout.BootDisk);
        TryDeleteDirectory(Layout.UserDirectory);
        TryDelete(Layout.QmpSocket);
        Log.Stopped(_logger, Spec.Instance, Pid, code);
        _onDisposed(this);
    }

    private static async Task<int> WaitForExitAsync(ProcessHandle handle)
    {
        // A pidfd turns readable at the exit of any process, child or not; polled without blocking a thread.
        while (!handle.WaitForExit(TimeSpan.Zero))
        {
            await Task.Delay(AdoptedExitPoll);
        }

        return UnknownExitCode;
    }

    /// <summary>A QEMU that dies on its own (crash, OOM kill, guest shutdown) is logged the moment it happens.</summary>
    private async Task ReportUnexpectedExitAsync()
    {
        var code = await Exited;
        if (Volatile.Read(ref _disposed) == 0)
        {
            Log.ExitedUnexpectedly(_logger, Spec.Instance, Pid, code);
        }
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CleanupFailed(_logger, path, ex.Message);
        }
    }

    private void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CleanupFailed(_logger, path, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.QemuStopped, Level = LogLevel.Information, Message = "QEMU {Instance} (pid {Pid}) stopped with exit code {ExitCode}")]
        public static partial void Stopped(ILogger logger, string instance, int pid, int exitCode);

        [LoggerMessage(EventId = AgentEventIds.QemuExitedUnexpectedly, Level = LogLevel.Warning, Message = "QEMU {Instance} (pid {Pid}) exited on its own with code {ExitCode}")]
        public static partial void ExitedUnexpectedly(ILogger logger, string instance, int pid, int exitCode);

        [LoggerMessage(EventId = AgentEventIds.QemuReleased, Level = LogLevel.Information, Message = "QEMU {Instance} (pid {Pid}) left running for the next agent to adopt")]
        public static partial void Released(ILogger logger, string instance, int pid);

        [LoggerMessage(EventId = AgentEventIds.QemuCleanupFailed, Level = LogLevel.Warning, Message = "Could not delete {Path}: {Reason}")]
        public static partial void CleanupFailed(ILogger logger, string path, string reason);
    }
}
