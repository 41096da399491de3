using System.Collections.Concurrent;
using System.Text.Json;
using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ferry.Api.Notifications;

/// <summary>
/// Delivers the outbox. Any replica may run it: rows are claimed with <c>FOR UPDATE SKIP LOCKED</c> and a lease
/// (their <c>next_attempt_at</c> moves past the attempt's end), like the scheduler's claims, so a replica that dies
/// mid-attempt leaves the row due again after the lease and another replica (or its restart) sends it again, with
/// the same notification id. Only the oldest pending notification of a (subscription, migration) pair is ever
/// claimed, so those arrive strictly in order; every other pair goes in parallel. A failing subscriber backs off
/// as a whole (its <c>retry_at</c>) and holds at most <see cref="NotificationOptions.MaxParallelPerSubscriber"/>
/// attempts, so it delays no other subscriber; migrations never wait on any of this (they only wrote the rows).
/// </summary>
internal sealed partial class NotificationDelivery(
    IConfiguration configuration, NotificationSignal signal, SubscriberClient subscribers, SubscriptionSecrets secrets, TimeProvider time,
    IOptions<NotificationOptions> options, ILogger<NotificationDelivery> logger) : BackgroundService
{
    private static readonly JsonSerializerOptions Json = ApiJson.Create();

    private readonly ConcurrentDictionary<Guid, int> _inFlightPerSubscriber = new();
    private string _connectionString = "";
    private SemaphoreSlim _connections = null!;
    private int _inFlight;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.DeliveryEnabled)
        {
            return;
        }

        // The API's own connection string, so that delivery borrows from the pool EF uses (Npgsql pools by connection
        // string) instead of keeping idle connections of its own, and at most MaxConnections of them at once.
        _connectionString = configuration.GetConnectionString("Ferry")!;
        _connections = new SemaphoreSlim(o.MaxConnections, o.MaxConnections);
        var running = new List<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Taken before the claim, so that a pulse during it is not lost.
                var wake = signal.Next;
                var claimed = 0;
                var room = o.MaxParallel - Volatile.Read(ref _inFlight);
                if (room > 0)
                {
                    try
                    {
                        var batch = await ClaimAsync(room, stoppingToken);
                        claimed = batch.Count;
                        foreach (var row in batch)
                        {
                            Interlocked.Increment(ref _inFlight);
                            _inFlightPerSubscriber.AddOrUpdate(row.SubscriptionId, 1, (_, n) => n + 1);
                            running.Add(DeliverAsync(row, stoppingToken));
                        }
                    }
                    catch (NpgsqlException e)
                    {
                        LogClaimFailed(logger, e.Message);
                    }
                }

                running.RemoveAll(t => t.IsCompleted);
                if (claimed > 0 && claimed == room)
                {
                    // There may be more due: claim again as soon as an attempt frees a place.
                    await Task.WhenAny(wake, Task.Delay(o.PollInterval, time, stoppingToken));
                    continue;
                }

                if (claimed == 0)
                {
                    await Task.WhenAny(wake, Task.Delay(o.PollInterval, time, stoppingToken));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: attempts in flight are cancelled; their rows are due again after the lease.
        }
        finally
        {
            await Task.WhenAll(running.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
            _connections.Dispose();
        }
    }

    private async Task<List<ClaimedNotification>> ClaimAsync(int limit, CancellationToken ct)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var busy = _inFlightPerSubscriber.Where(p => p.Value >= o.MaxParallelPerSubscriber).Select(p => p.Key).ToArray();
        await _connections.WaitAsync(ct);
        try
        {
            return await ClaimOnAsync(busy, now, limit, ct);
        }
        finally
        {
            _connections.Release();
        }
    }

    private async Task<List<ClaimedNotification>> ClaimOnAsync(Guid[] busy, DateTimeOffset now, int limit, CancellationToken ct)
    {
        var o = options.Value;
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("""
            UPDATE notification_outbox o SET next_attempt_at = @lease_end, attempts = o.attempts + 1
            FROM subscriptions s
            WHERE s.id = o.subscription_id AND o.id IN (
                SELECT x.id FROM notification_outbox x
                WHERE x.id IN (
                    SELECT c.id FROM (
                        SELECT h.id, row_number() OVER (PARTITION BY h.subscription_id ORDER BY h.id) AS r
                        FROM (
                            SELECT y.id, y.subscription_id
                            FROM notification_outbox y JOIN subscriptions t ON t.id = y.subscription_id
                            WHERE y.dead_at IS NULL AND y.next_attempt_at <= @now
                              AND (t.retry_at IS NULL OR t.retry_at <= @now)
                              AND NOT (y.subscription_id = ANY(@busy))
                              AND NOT EXISTS (SELECT 1 FROM notification_outbox e
                                              WHERE e.subscription_id = y.subscription_id AND e.migration_id = y.migration_id
                                                AND e.id < y.id AND e.dead_at IS NULL)
                            ORDER BY y.id LIMIT @scan
                        ) h
                    ) c
                    WHERE c.r <= @per_subscriber ORDER BY c.id LIMIT @limit)
                  AND x.next_attempt_at <= @now AND x.dead_at IS NULL
                FOR UPDATE SKIP LOCKED)
            RETURNING o.id, o.notification_id, o.subscription_id, o.attempts, o.window_start, o.payload::text,
                      s.callback_uri, s.verbosity, s.protected_authentication
            """, connection);
        command.Parameters.AddWithValue("lease_end", now + o.AttemptTimeout + o.AttemptTimeout + TimeSpan.FromSeconds(10));
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("busy", busy);
        command.Parameters.AddWithValue("per_subscriber", o.MaxParallelPerSubscriber);
        command.Parameters.AddWithValue("limit", limit);
        // The oldest due heads only: a backlog of a hundred thousand rows is not ranked whole on every claim (the
        // window runs over these), and the oldest go first. Four times the room leaves enough after the per-subscriber cap.
        command.Parameters.AddWithValue("scan", limit * 4);
        var rows = new List<ClaimedNotification>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new(reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetInt32(3), reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        // Claimed in id order; handed out in it too, so pairs started together start in order.
        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        return rows;
    }

    private async Task DeliverAsync(ClaimedNotification row, CancellationToken ct)
    {
        try
        {
            // Off the claim loop: the loop claims the next batch while this one is on the wire.
            await Task.Yield();
            var e = JsonSerializer.Deserialize<NotificationEvent>(row.Payload, Json)!;
            var body = JsonSerializer.SerializeToUtf8Bytes(MigrationOccurrenceNotification.From(row.NotificationId, row.SubscriptionId, row.Verbosity, e), Json);
            AttemptOutcome outcome;
            try
            {
                outcome = await subscribers.PostAsync(row.SubscriptionId, row.CallbackUri, secrets.Unprotect(row.ProtectedAuthentication), body, ct);
            }
            catch (System.Security.Cryptography.CryptographicException x)
            {
                // The key ring lost the key that encrypted this subscription's secrets: nothing to send it with, retried like any failure.
                outcome = AttemptOutcome.Failure($"the subscription's credentials cannot be decrypted: {x.Message}");
            }

            await RecordAsync(row, outcome, ct);
        }
        catch (Exception x) when (!ct.IsCancellationRequested)
        {
            // Not recorded (the database was unreachable): the claim's lease runs out and the notification is sent again.
            LogRecordFailed(logger, row.NotificationId, x.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _inFlightPerSubscriber.AddOrUpdate(row.SubscriptionId, 0, (_, n) => n - 1);
            signal.Pulse();
        }
    }

    private async Task RecordAsync(ClaimedNotification row, AttemptOutcome outcome, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await _connections.WaitAsync(ct);
        try
        {
            await RecordOnAsync(row, outcome, now, ct);
        }
        finally
        {
            _connections.Release();
        }
    }

    private async Task RecordOnAsync(ClaimedNotification row, AttemptOutcome outcome, DateTimeOffset now, CancellationToken ct)
    {
        var o = options.Value;
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(ct);
        await using var batch = new NpgsqlBatch(connection);
        if (outcome.Delivered)
        {
            batch.BatchCommands.Add(Command("DELETE FROM notification_outbox WHERE id = @id", ("id", row.Id)));
            batch.BatchCommands.Add(Command("""
                UPDATE subscriptions SET last_attempt_at = @now, last_error = NULL, failed_since = NULL, consecutive_failures = 0, retry_at = NULL
                WHERE id = @subscription AND (last_error IS NOT NULL OR last_attempt_at IS NULL OR last_attempt_at < @now - interval '1 second')
                """, ("now", now), ("subscription", row.SubscriptionId)));
            // A healthy subscriber's row is rewritten at most once a second: a hundred deliveries a second to one
            // subscriber would otherwise queue on its row lock, and lastAttemptAt a second old says the same.
        }
        else
        {
            var dead = now - row.WindowStart >= o.MaxAge;
            var retry = now + Backoff(row.Attempts);
            batch.BatchCommands.Add(Command("""
                UPDATE notification_outbox SET next_attempt_at = @retry, last_error = @error, dead_at = CASE WHEN @dead THEN @now END WHERE id = @id
                """, ("retry", retry), ("error", outcome.Error!), ("dead", dead), ("now", now), ("id", row.Id)));
            batch.BatchCommands.Add(Command("""
                UPDATE subscriptions SET last_attempt_at = @now, last_error = @error, failed_since = coalesce(failed_since, @now),
                    consecutive_failures = consecutive_failures + 1,
                    retry_at = least(@now + make_interval(secs => @backoff_seconds * power(2, least(consecutive_failures, 20))), @max)
                WHERE id = @subscription
                """, ("now", now), ("error", outcome.Error!), ("subscription", row.SubscriptionId),
                ("backoff_seconds", Jittered(o.MinBackoff).TotalSeconds), ("max", now + o.MaxBackoff)));
            if (dead)
            {
                LogDeadLettered(logger, row.NotificationId, row.SubscriptionId, outcome.Error!);
            }
            else
            {
                LogAttemptFailed(logger, row.NotificationId, row.SubscriptionId, row.Attempts, outcome.Error!);
            }
        }

        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Exponential in the attempts, capped, with "equal jitter" (half fixed, half random) so that retries of many notifications spread out.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var o = options.Value;
        var exponential = o.MinBackoff * Math.Pow(2, Math.Min(attempts - 1, 30));
        return Jittered(exponential < o.MaxBackoff ? exponential : o.MaxBackoff);
    }

    private static TimeSpan Jittered(TimeSpan delay) => delay * (0.5 + (Random.Shared.NextDouble() / 2));

    private static NpgsqlBatchCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }

    private sealed record ClaimedNotification(long Id, Guid NotificationId, Guid SubscriptionId, int Attempts, DateTimeOffset WindowStart,
        string Payload, string CallbackUri, string Verbosity, string? ProtectedAuthentication);

    [LoggerMessage(EventId = ApiEventIds.NotificationClaimFailed, Level = LogLevel.Warning, Message = "Could not claim notifications ({Reason}); trying again at the next poll")]
    private static partial void LogClaimFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = ApiEventIds.NotificationAttemptFailed, Level = LogLevel.Information, Message = "Notification {NotificationId} to subscription {SubscriptionId} failed (attempt {Attempt}): {Reason}")]
    private static partial void LogAttemptFailed(ILogger logger, Guid notificationId, Guid subscriptionId, int attempt, string reason);

    [LoggerMessage(EventId = ApiEventIds.NotificationDeadLettered, Level = LogLevel.Warning, Message = "Notification {NotificationId} to subscription {SubscriptionId} dead-lettered after the maximum age: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, Guid notificationId, Guid subscriptionId, string reason);

    [LoggerMessage(EventId = ApiEventIds.NotificationRecordFailed, Level = LogLevel.Warning, Message = "The outcome of notification {NotificationId} was not recorded ({Reason}); it is sent again after its lease")]
    private static partial void LogRecordFailed(ILogger logger, Guid notificationId, string reason);
}
