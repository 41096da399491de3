using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Migration;
using Ferry.Transfer.Protocol;
using Microsoft.Extensions.Logging;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// The engine's destination for one migration into a waiting QEMU: it listens on the migration
/// address, lets the engine write every page straight into the target's RAM file, and only once
/// every stream acknowledged the final pass plays the device state into QEMU and resumes the guest,
/// after which the engine confirms to the source that the guest runs here.
/// </summary>
internal sealed partial class NativeReceiver : IAsyncDisposable
{
    /// <summary>How often the wait for the source's first stream looks at the cancel.</summary>
    private const int AcceptPollMicroseconds = 200_000;

    private readonly string _migrationId;
    private readonly QemuProcess _qemu;
    private readonly MigrationUri _qemuListen;
    private readonly bool _qemuConfigured;
    private readonly SslClientAuthenticationOptions? _qemuTls;
    private readonly TcpListener _listener;
    private readonly GuestMemory _memory;
    private readonly DestinationMigration _destination;
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private Task _run = Task.CompletedTask;

    private NativeReceiver(string migrationId, QemuProcess qemu, MigrationUri qemuListen, bool qemuConfigured, SslClientAuthenticationOptions? qemuTls, TcpListener listener, GuestMemory memory,
        DestinationMigration destination, ILogger logger)
    {
        _migrationId = migrationId;
        _qemu = qemu;
        _qemuListen = qemuListen;
        _qemuConfigured = qemuConfigured;
        _qemuTls = qemuTls;
        _listener = listener;
        _memory = memory;
        _destination = destination;
        _logger = logger;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public int Port { get; }

    /// <summary>What the receiver ended with, once it ended; null while it waits or runs.</summary>
    public DestinationResult? Result { get; private set; }

    /// <summary>
    /// Maps the target's RAM file, listens on <paramref name="address"/> and waits for the source in the background.
    /// <paramref name="qemuTls"/>: the TLS the target QEMU's listener asks of the device state (when it was prepared for the qemu transport's TLS too).
    /// </summary>
    public static NativeReceiver Start(string migrationId, QemuProcess qemu, MigrationUri qemuListen, bool qemuConfigured, SslClientAuthenticationOptions? qemuTls, IPAddress address,
        MigrationCredentials credentials, MigrationSettings settings, ILogger logger)
    {
        var memory = GuestMemory.Open(qemu.Layout.RamFile, NativePaging.PageSize);
        var listener = new TcpListener(address, 0);
        try
        {
            listener.Start(Transfer.Protocol.WireFormat.MaxStreams);
            var destination = new DestinationMigration(memory, credentials, settings.ParallelStreams, settings.ProgressTimeout);
            var receiver = new NativeReceiver(migrationId, qemu, qemuListen, qemuConfigured, qemuTls, listener, memory, destination, logger);
            receiver._run = Task.Run(receiver.RunAsync, CancellationToken.None);
            return receiver;
        }
        catch
        {
            listener.Dispose();
            memory.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _run;
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            // The engine gives up on a stream that does not connect within the progress timeout; the
            // source may come much later (the API persists a state in between), so wait here first.
            if (!await WaitForSourceAsync())
            {
                return;
            }

            Result = await _destination.RunAsync(_listener, StartGuestAsync, _stop.Token);
            if (Result.Succeeded)
            {
                Log.Received(_logger, _migrationId, Result.PagesWritten, Result.ZeroPages, Result.BytesReceived);
            }
            else
            {
                Log.Failed(_logger, _migrationId, Result.FailureReason);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.Failed(_logger, _migrationId, ex.Message);
        }
        finally
        {
            _listener.Stop();
            _memory.Dispose();
        }
    }

    /// <summary>
    /// True once the source's first stream is waiting to be accepted; false when the receiver is closed,
    /// or the target QEMU is gone or runs already (with auto both were prepared and the source picked qemu).
    /// </summary>
    private async Task<bool> WaitForSourceAsync()
    {
        while (!_stop.IsCancellationRequested && !_qemu.HasExited)
        {
            var pending = await Task.Factory.StartNew(
                () =>
                {
                    try
                    {
                        return _listener.Server.Poll(AcceptPollMicroseconds, SelectMode.SelectRead) ? (bool?)true : null;
                    }
                    catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                    {
                        return false;
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            if (pending is { } answer)
            {
                return answer;
            }

            if (await GuestRunsAsync())
            {
                Log.NotUsed(_logger, _migrationId);
                return false;
            }
        }

        return false;
    }

    private async Task<bool> GuestRunsAsync()
    {
        try
        {
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            budget.CancelAfter(TimeSpan.FromSeconds(5));
            return (await _qemu.Qmp.QueryStatusAsync(budget.Token)).Running;
        }
        catch (Exception ex) when (ex is QmpException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Every page is in the RAM file: QEMU gets its device state and the guest runs again.</summary>
    private async Task StartGuestAsync(ReadOnlyMemory<byte> deviceState, CancellationToken cancellationToken)
    {
        if (deviceState.IsEmpty)
        {
            throw new IOException("The source sent no device state; QEMU cannot resume without it.");
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await QemuDeviceState.LoadAsync(_qemu.Qmp, _qemuListen, deviceState, _qemuConfigured, _qemuTls, cancellationToken);
        var loaded = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            // A live source's state says it ran, and QEMU resumed the guest itself as it finished loading;
            // a paused copy's says paused. A cont on a running guest would only add a STOP and a RESUME.
            if (!(await _qemu.Qmp.QueryStatusAsync(cancellationToken)).Running)
            {
                await _qemu.Qmp.ContAsync(cancellationToken);
            }
        }
        catch (QmpException ex)
        {
            throw new IOException($"Resuming the guest on the target failed: {ex.Message}", ex);
        }

        Log.Started(_logger, _migrationId, System.Diagnostics.Stopwatch.GetElapsedTime(started, loaded).TotalMilliseconds, System.Diagnostics.Stopwatch.GetElapsedTime(loaded).TotalMilliseconds);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.NativeReceived, Level = LogLevel.Information, Message = "Migration {MigrationId}: the engine received {Pages} pages and {ZeroPages} zero pages ({Bytes} bytes); the guest runs here")]
        public static partial void Received(ILogger logger, string migrationId, long pages, long zeroPages, long bytes);

        [LoggerMessage(EventId = AgentEventIds.NativeReceiveFailed, Level = LogLevel.Warning, Message = "Migration {MigrationId}: the engine's destination failed: {Reason}")]
        public static partial void Failed(ILogger logger, string migrationId, string? reason);

        [LoggerMessage(EventId = AgentEventIds.NativeReceiverStarted, Level = LogLevel.Information, Message = "Migration {MigrationId}: target start = device state loaded {LoadMs} ms + cont {ContMs} ms")]
        public static partial void Started(ILogger logger, string migrationId, double loadMs, double contMs);

        [LoggerMessage(EventId = AgentEventIds.NativeReceiverNotUsed, Level = LogLevel.Information, Message = "Migration {MigrationId}: the guest runs here without the engine (the source used qemu); its receiver closes")]
        public static partial void NotUsed(ILogger logger, string migrationId);
    }
}
