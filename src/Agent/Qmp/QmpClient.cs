using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Qmp;

/// <summary>
/// QMP over a UNIX stream socket. One read loop owns the socket's input and routes answers to
/// the waiting command by request id and events to subscribers. The first protocol fault
/// (garbage, truncation, close) poisons the connection: every pending and later command fails
/// with the same reason, because a QMP stream cannot be resynchronised safely.
/// </summary>
internal sealed partial class QmpClient : IQmpClient
{
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _input;
    private readonly QmpClientOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _peer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<long, PendingCommand> _pending = new();
    private readonly Lock _subscribersLock = new();
    private readonly List<QmpEventSubscription> _subscribers = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<QmpException> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _readLoop = Task.CompletedTask;
    private long _nextId;
    private volatile QmpException? _fault;
    private int _disposed;

    private QmpClient(Socket socket, string peer, QmpClientOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        _peer = peer;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public QmpGreeting Greeting { get; private set; } = new(0, 0, 0, string.Empty, []);

    public Task<QmpException> Closed => _closed.Task;

    /// <summary>Connects, reads the greeting, negotiates capabilities; a half-open client is never returned.</summary>
    public static async Task<QmpClient> ConnectAsync(
        string socketPath,
        QmpClientOptions options,
        TimeProvider timeProvider,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        QmpClient? client = null;
        using var deadline = new CancellationTokenSource(options.ConnectTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), linked.Token);
            client = new QmpClient(socket, socketPath, options, timeProvider, logger);
            using var greeting = await client.ReadMessageAsync(linked.Token)
                ?? throw new QmpException(QmpFailure.ConnectionClosed, $"QMP peer {socketPath} closed before its greeting.");
            client.Greeting = ParseGreeting(greeting.RootElement);
            client._readLoop = Task.Run(client.ReadLoopAsync, CancellationToken.None);
            await client.ExecuteAsync("qmp_capabilities", options.ConnectTimeout, linked.Token);
            Log.Connected(logger, socketPath, client.Greeting.ToString());
            return client;
        }
        catch (Exception ex)
        {
            if (client is not null)
            {
                await client.DisposeAsync();
            }
            else
            {
                socket.Dispose();
            }

            if (ex is QmpException || (ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                throw;
            }

            if (ex is OperationCanceledException)
            {
                throw new QmpException(QmpFailure.Timeout, $"QMP handshake with {socketPath} did not finish within {options.ConnectTimeout}.", ex);
            }

            throw new QmpException(QmpFailure.ConnectionClosed, $"Could not open QMP at {socketPath}: {ex.Message}", ex);
        }
    }

    public Task<JsonElement> ExecuteAsync(string command, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        SendAsync(command, static (_, _) => { }, arguments: false, timeout, cancellationToken);

    public Task<JsonElement> ExecuteAsync<TArguments>(
        string command,
        TArguments arguments,
        JsonTypeInfo<TArguments> argumentsType,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(argumentsType);
        return SendAsync(command, (writer, _) => JsonSerializer.Serialize(writer, arguments, argumentsType), arguments: true, timeout, cancellationToken);
    }

    public QmpEventSubscription SubscribeEvents()
    {
        var channel = Channel.CreateBounded<QmpEvent>(new BoundedChannelOptions(_options.EventBufferCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = true,
        });
        var subscription = new QmpEventSubscription(channel, Unsubscribe);
        lock (_subscribersLock)
        {
            if (_fault is { } fault)
            {
                subscription.Complete(fault);
            }
            else
            {
                _subscribers.Add(subscription);
            }
        }

        return subscription;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Fault(new QmpException(QmpFailure.ConnectionClosed, $"QMP connection to {_peer} was closed by the agent."));
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _readLoop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
            // The loop ends by seeing its socket disappear; that is the point of disposing.
        }

        await _input.CompleteAsync();
        await _stream.DisposeAsync();
        _stop.Dispose();
        _writeLock.Dispose();
    }

    private async Task<JsonElement> SendAsync(
        string command,
        Action<Utf8JsonWriter, object?> writeArguments,
        bool arguments,
        TimeSpan? timeout,
        CancellationToken cancellationToken)
    {
        if (!CommandName().IsMatch(command))
        {
            throw new ArgumentException($"'{command}' is not a QMP command name.", nameof(command));
        }

        var id = Interlocked.Increment(ref _nextId);
        var payload = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(payload))
        {
            writer.WriteStartObject();
            writer.WriteString("execute"u8, command);
            if (arguments)
            {
                writer.WritePropertyName("arguments"u8);
                writeArguments(writer, null);
            }

            writer.WriteNumber("id"u8, id);
            writer.WriteEndObject();
        }

        payload.Write("\n"u8);

        var pending = new PendingCommand(command);
        _pending[id] = pending;
        var limit = timeout ?? _options.CommandTimeout;
        using var deadline = new CancellationTokenSource(limit, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            // Checked after registering so a concurrent fault either sees this command or we see the fault.
            if (_fault is { } fault)
            {
                throw Rethrow(fault, command);
            }

            Log.Sending(_logger, command, id);
            await WriteAsync(payload.WrittenMemory, command, linked.Token);
            return await pending.Answer.Task.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Log.CommandTimedOut(_logger, command, id, limit);
            throw new QmpException(QmpFailure.Timeout, $"QMP command '{command}' got no answer within {limit}.", ex) { Command = command };
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> payload, string command, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _stream.WriteAsync(payload, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException)
        {
            // A write interrupted halfway leaves a partial message on the wire; the stream is unusable.
            Fault(new QmpException(QmpFailure.ConnectionClosed, $"Writing '{command}' to {_peer} was interrupted.", ex));
            throw;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            var fault = new QmpException(QmpFailure.ConnectionClosed, $"QMP connection to {_peer} closed while sending '{command}'.", ex);
            Fault(fault);
            throw Rethrow(_fault ?? fault, command);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                using var message = await ReadMessageAsync(_stop.Token);
                if (message is null)
                {
                    Fault(new QmpException(QmpFailure.ConnectionClosed, $"QMP peer {_peer} closed the connection."));
                    return;
                }

                Dispatch(message.RootElement);
            }
        }
        catch (QmpException ex)
        {
            Fault(ex);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
            Fault(new QmpException(QmpFailure.ConnectionClosed, $"QMP connection to {_peer} ended: {ex.Message}", ex));
        }
    }

    private void Dispatch(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw Garbage($"a JSON {message.ValueKind} instead of an object");
        }

        if (message.TryGetProperty("event"u8, out var eventName))
        {
            Publish(ParseEvent(message, eventName));
            return;
        }

        var hasReturn = message.TryGetProperty("return"u8, out var result);
        var hasError = message.TryGetProperty("error"u8, out var error);
        if (!hasReturn && !hasError)
        {
            throw Garbage("an object that is neither an answer nor an event");
        }

        // QEMU echoes our numeric id on every answer to a well-formed command; an answer without
        // one means it could not parse what we sent, so nothing can be matched any more.
        if (!message.TryGetProperty("id"u8, out var idElement) || !idElement.TryGetInt64(out var id))
        {
            throw Garbage(hasError ? $"an error without a request id: {Describe(error)}" : "an answer without a request id");
        }

        if (!_pending.TryGetValue(id, out var pending))
        {
            // Typically the answer to a command that already timed out.
            Log.UnmatchedAnswer(_logger, id, _peer);
            return;
        }

        if (hasError)
        {
            var errorClass = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("class"u8, out var c) && c.ValueKind == JsonValueKind.String
                ? c.GetString()
                : null;
            Log.CommandFailed(_logger, pending.Command, id, errorClass ?? "?", Describe(error));
            pending.Answer.TrySetException(new QmpException(QmpFailure.CommandFailed, $"QMP command '{pending.Command}' failed: {Describe(error)}")
            {
                ErrorClass = errorClass,
                Command = pending.Command,
            });
            return;
        }

        pending.Answer.TrySetResult(result.Clone());
    }

    private QmpEvent ParseEvent(JsonElement message, JsonElement eventName)
    {
        if (eventName.ValueKind != JsonValueKind.String)
        {
            throw Garbage("an event whose name is not a string");
        }

        var data = message.TryGetProperty("data"u8, out var d) ? d.Clone() : EmptyObject;
        var timestamp = _timeProvider.GetUtcNow();
        if (message.TryGetProperty("timestamp"u8, out var ts)
            && ts.ValueKind == JsonValueKind.Object
            && ts.TryGetProperty("seconds"u8, out var seconds) && seconds.TryGetInt64(out var s)
            && ts.TryGetProperty("microseconds"u8, out var micros) && micros.TryGetInt64(out var us)
            && s is >= 0 and < 253402300799)
        {
            timestamp = DateTimeOffset.FromUnixTimeSeconds(s).AddTicks(us * 10);
        }

        return new QmpEvent(eventName.GetString()!, data, timestamp);
    }

    private void Publish(QmpEvent qmpEvent)
    {
        Log.EventReceived(_logger, qmpEvent.Name, _peer);
        lock (_subscribersLock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.TryPublish(qmpEvent);
            }
        }
    }

    private void Unsubscribe(QmpEventSubscription subscription)
    {
        lock (_subscribersLock)
        {
            _subscribers.Remove(subscription);
        }
    }

    /// <summary>Reads one newline-terminated message; null on a clean close between messages.</summary>
    private async ValueTask<JsonDocument?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await _input.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (buffer.PositionOf((byte)'\n') is { } newline)
            {
                var line = buffer.Slice(0, newline);
                JsonDocument? document = null;
                try
                {
                    if (!IsBlank(line))
                    {
                        document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 64 });
                    }
                }
                catch (JsonException ex)
                {
                    throw new QmpException(QmpFailure.ProtocolViolation, $"QMP peer {_peer} sent garbage: {Snippet(line)}", ex);
                }
                finally
                {
                    _input.AdvanceTo(buffer.GetPosition(1, newline));
                }

                if (document is not null)
                {
                    return document;
                }

                continue;
            }

            if (buffer.Length > _options.MaxMessageBytes)
            {
                throw Garbage($"a message longer than {_options.MaxMessageBytes} bytes");
            }

            if (read.IsCompleted)
            {
                if (!IsBlank(buffer))
                {
                    throw new QmpException(QmpFailure.ConnectionClosed, $"QMP peer {_peer} closed the connection in the middle of a message: {Snippet(buffer)}");
                }

                _input.AdvanceTo(buffer.End);
                return null;
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private void Fault(QmpException fault)
    {
        lock (_subscribersLock)
        {
            if (_fault is not null)
            {
                return;
            }

            _fault = fault;
            foreach (var subscriber in _subscribers)
            {
                subscriber.Complete(fault);
            }

            _subscribers.Clear();
        }

        if (fault.Failure != QmpFailure.ConnectionClosed || _disposed == 0)
        {
            Log.ConnectionFaulted(_logger, _peer, fault.Failure, fault.Message);
        }

        foreach (var (_, pending) in _pending)
        {
            pending.Answer.TrySetException(Rethrow(fault, pending.Command));
        }

        _closed.TrySetResult(fault);
        _stop.Cancel();

        // Unblocks a writer stuck on a peer that stopped reading.
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    private static QmpException Rethrow(QmpException fault, string command) =>
        new(fault.Failure, fault.Message, fault) { Command = command, ErrorClass = fault.ErrorClass };

    private QmpException Garbage(string what) =>
        new(QmpFailure.ProtocolViolation, $"QMP peer {_peer} sent {what}.");

    private static QmpGreeting ParseGreeting(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("QMP"u8, out var qmp)
            || qmp.ValueKind != JsonValueKind.Object
            || !qmp.TryGetProperty("version"u8, out var version)
            || version.ValueKind != JsonValueKind.Object)
        {
            throw new QmpException(QmpFailure.ProtocolViolation, $"Expected a QMP greeting, got: {Truncate(root.GetRawText())}");
        }

        int Number(string name) =>
            version.TryGetProperty("qemu"u8, out var qemu) && qemu.ValueKind == JsonValueKind.Object
            && qemu.TryGetProperty(name, out var n) && n.TryGetInt32(out var value) ? value : 0;

        var package = version.TryGetProperty("package"u8, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : string.Empty;
        var capabilities = qmp.TryGetProperty("capabilities"u8, out var caps) && caps.ValueKind == JsonValueKind.Array
            ? caps.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.String).Select(c => c.GetString()!).ToArray()
            : [];
        return new QmpGreeting(Number("major"), Number("minor"), Number("micro"), package, capabilities);
    }

    private static string Describe(JsonElement error) =>
        error.ValueKind == JsonValueKind.Object && error.TryGetProperty("desc"u8, out var desc) && desc.ValueKind == JsonValueKind.String
            ? desc.GetString()!
            : Truncate(error.GetRawText());

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\r' or (byte)'\t'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static string Snippet(ReadOnlySequence<byte> line)
    {
        var head = line.Slice(0, Math.Min(line.Length, 80)).ToArray();
        var text = Encoding.UTF8.GetString(head);
        return Truncate(new string(text.Select(ch => char.IsControl(ch) ? '?' : ch).ToArray())) + (line.Length > 80 ? "…" : string.Empty);
    }

    private static string Truncate(string text) => text.Length <= 120 ? text : text[..120] + "…";

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z")]
    private static partial Regex CommandName();

    private sealed class PendingCommand(string command)
    {
        public string Command { get; } = command;

        public TaskCompletionSource<JsonElement> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.QmpConnected, Level = LogLevel.Information, Message = "QMP connected to {Peer}, QEMU {Version}")]
        public static partial void Connected(ILogger logger, string peer, string version);

        [LoggerMessage(EventId = AgentEventIds.QmpSending, Level = LogLevel.Debug, Message = "QMP -> {Command} (id {Id})")]
        public static partial void Sending(ILogger logger, string command, long id);

        [LoggerMessage(EventId = AgentEventIds.QmpCommandTimedOut, Level = LogLevel.Warning, Message = "QMP command {Command} (id {Id}) got no answer within {Timeout}")]
        public static partial void CommandTimedOut(ILogger logger, string command, long id, TimeSpan timeout);

        [LoggerMessage(EventId = AgentEventIds.QmpCommandFailed, Level = LogLevel.Warning, Message = "QMP command {Command} (id {Id}) failed: {ErrorClass}: {Description}")]
        public static partial void CommandFailed(ILogger logger, string command, long id, string errorClass, string description);

        [LoggerMessage(EventId = AgentEventIds.QmpEventReceived, Level = LogLevel.Debug, Message = "QMP event {Event} from {Peer}")]
        public static partial void EventReceived(ILogger logger, string @event, string peer);

        [LoggerMessage(EventId = AgentEventIds.QmpUnmatchedAnswer, Level = LogLevel.Debug, Message = "QMP answer with unknown id {Id} from {Peer} ignored")]
        public static partial void UnmatchedAnswer(ILogger logger, long id, string peer);

        [LoggerMessage(EventId = AgentEventIds.QmpConnectionFaulted, Level = LogLevel.Warning, Message = "QMP connection to {Peer} failed ({Failure}): {Reason}")]
        public static partial void ConnectionFaulted(ILogger logger, string peer, QmpFailure failure, string reason);
    }
}
