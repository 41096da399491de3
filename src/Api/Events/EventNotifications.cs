using Ferry.Api.Persistence;
using Npgsql;

namespace Ferry.Api.Events;

/// <summary>
/// One PostgreSQL connection per replica that LISTENs on the event log's two channels: a writer's commit
/// (<see cref="FerryDbContext.EventChannel"/>) wakes the <see cref="EventSequencer"/>, a pass that positioned
/// events (<see cref="EventSequencer.PublishedChannel"/>) pulses the streams' <see cref="EventSignal"/>. Why LISTEN/NOTIFY and not polling alone: a commit on
/// any replica reaches every stream within a round trip instead of a poll interval (progress at
/// 250 ms would need a faster poll than that), and the database's load does not grow with the number
/// of open streams (one idle connection per replica, one indexed read per stream per commit). Streams
/// still read the log every <see cref="EventOptions.PollInterval"/>, for a notification lost while this
/// connection was being re-made; after every (re)connection the sequencer and all streams are woken to catch up.
/// </summary>
internal sealed partial class EventNotifications(IConfiguration configuration, EventSignal signal, EventSequencer sequencer,
    Notifications.NotificationSignal notifications, TimeProvider time, ILogger<EventNotifications> logger)
    : BackgroundService
{
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    private NpgsqlConnection? _first;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Listen before the server takes requests: a stream opened at once is woken by the very next commit.
        try
        {
            _first = await ListenAsync(cancellationToken);
        }
        catch (NpgsqlException e)
        {
            LogListenFailed(logger, e.Message);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connection = _first;
        _first = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    connection ??= await ListenAsync(stoppingToken);
                    sequencer.Wake();
                    signal.Pulse();
                    notifications.Pulse();
                    while (true)
                    {
                        await connection.WaitAsync(stoppingToken);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Whatever broke the connection (a restarted server, a dead TCP found by the keepalive), make a new one.
                    LogListenFailed(logger, e.Message);
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }

                    await Task.Delay(ReconnectDelay, time, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private async Task<NpgsqlConnection> ListenAsync(CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Ferry"))
        {
            // Its own connection, never returned to a pool that would reset its LISTEN.
            Pooling = false,
            // WaitAsync on a connection whose peer vanished without a FIN would wait forever; a
            // keepalive query every 30 s turns that into an error and a reconnect.
            KeepAlive = 30,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            // The notification outbox's commits come on a channel of their own: its delivery need not wake for every
            // progress sample. A writer's commit wakes the sequencer; a pass that positioned events wakes the streams.
            connection.Notification += (_, e) =>
            {
                if (e.Channel == FerryDbContext.NotificationChannel)
                {
                    notifications.Pulse();
                }
                else if (e.Channel == EventSequencer.PublishedChannel)
                {
                    signal.Pulse();
                }
                else
                {
                    sequencer.Wake();
                }
            };
            await using var listen = new NpgsqlCommand(
                $"LISTEN {FerryDbContext.EventChannel}; LISTEN {EventSequencer.PublishedChannel}; LISTEN {FerryDbContext.NotificationChannel}", connection);
            await listen.ExecuteNonQueryAsync(ct);
            LogListening(logger, FerryDbContext.EventChannel);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    [LoggerMessage(EventId = ApiEventIds.EventsListening, Level = LogLevel.Information, Message = "Listening for migration events on channel {Channel}")]
    private static partial void LogListening(ILogger logger, string channel);

    [LoggerMessage(EventId = ApiEventIds.EventsListenFailed, Level = LogLevel.Warning, Message = "Not listening for migration events ({Reason}); streams poll until the connection is back")]
    private static partial void LogListenFailed(ILogger logger, string reason);
}
