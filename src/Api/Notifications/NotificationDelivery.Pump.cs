using Npgsql;

namespace Ferry.Api.Notifications;

/// <summary>The pump's round trip: record the outcomes that arrived, then claim due notifications, in one implicit transaction.</summary>
internal sealed partial class NotificationDelivery
{
    // Per subscriber that may be sent anything (not backing off, not full on this replica; a failing one, on any
    // replica, one probe at a time and none while this replica has one in flight), the due heads of its
    // (subscription, migration) pairs, oldest migration first (ids are UUIDv7), at most its room of them, walked on the
    // (subscription_id, migration_id, id) index: a head is the pair's first row, its successors are one probe back
    // into that index each. Then the oldest of all of them, at most @limit. The due test is wrapped in IS TRUE so that
    // no plan can start from the (partial) next_attempt_at index: with the statistics of an emptier table (a fresh
    // database, a burst after a quiet night) PostgreSQL took the 86,000 due rows of that index, probed each for an
    // earlier pending row and sorted them, 580 ms a turn; with the due test bare but inside this per-subscriber walk it
    // still ANDed that index's bitmap with the subscriber's, 7.6 ms a subscriber (EXPLAIN ANALYZE during
    // make bench-notifications, 2026-12-07, before autovacuum's first ANALYZE of the table).
    private const string ClaimSql = """
        WITH candidate AS (
            SELECT h.id
            FROM subscriptions t
            LEFT JOIN unnest(@active, @active_room) AS l(id, room) ON l.id = t.id
            CROSS JOIN LATERAL (
                SELECT y.id FROM notification_outbox y
                WHERE y.subscription_id = t.id AND (y.dead_at IS NULL AND y.next_attempt_at <= @now) IS TRUE
                  AND NOT EXISTS (SELECT 1 FROM notification_outbox e
                                  WHERE e.subscription_id = y.subscription_id AND e.migration_id = y.migration_id
                                    AND e.id < y.id AND e.dead_at IS NULL)
                ORDER BY y.subscription_id, y.migration_id, y.id
                LIMIT CASE WHEN t.consecutive_failures > 0 THEN 1 ELSE coalesce(l.room, @per_subscriber) END
            ) h
            WHERE (t.retry_at IS NULL OR t.retry_at <= @now)
              AND NOT (t.id = ANY(@busy))
              AND NOT (t.consecutive_failures > 0 AND t.id = ANY(@active))
            ORDER BY h.id LIMIT @limit
        )
        UPDATE notification_outbox o SET next_attempt_at = @lease_end, attempts = o.attempts + 1
        FROM subscriptions s
        WHERE s.id = o.subscription_id AND o.id IN (
            SELECT x.id FROM notification_outbox x
            WHERE x.id IN (SELECT id FROM candidate) AND x.next_attempt_at <= @now AND x.dead_at IS NULL
            FOR UPDATE SKIP LOCKED)
        RETURNING o.id, o.notification_id, o.subscription_id, o.attempts, o.window_start, o.payload::text,
                  s.callback_uri, s.verbosity, s.protected_authentication
        """;

    // Each subscriber's last outcome of the turn, its rows locked in id order so that two replicas' pumps never
    // deadlock on them. A healthy subscriber's row is rewritten at most once a second: a hundred deliveries a second
    // to one subscriber would otherwise queue on its row lock, and lastAttemptAt a second old says the same.
    private const string HealthSql = """
        WITH f AS (SELECT * FROM unnest(@subscriptions, @ok, @errors, @backoffs) AS u(id, ok, error, backoff)),
        locked AS (
            SELECT s.id FROM subscriptions s JOIN f ON f.id = s.id
            WHERE NOT f.ok OR s.last_error IS NOT NULL OR s.last_attempt_at IS NULL OR s.last_attempt_at < @now - interval '1 second'
            ORDER BY s.id FOR NO KEY UPDATE OF s)
        UPDATE subscriptions s SET
            last_attempt_at = @now,
            last_error = CASE WHEN f.ok THEN NULL ELSE f.error END,
            failed_since = CASE WHEN f.ok THEN NULL ELSE coalesce(s.failed_since, @now) END,
            consecutive_failures = CASE WHEN f.ok THEN 0 ELSE s.consecutive_failures + 1 END,
            retry_at = CASE WHEN f.ok THEN NULL
                            ELSE least(@now + make_interval(secs => f.backoff * power(2, least(s.consecutive_failures, 20))), @max) END
        FROM f WHERE s.id = f.id AND s.id IN (SELECT id FROM locked)
        """;

    // A failing subscriber is probed one notification at a time, so the others behind it would wait for a probe each
    // to be dead-lettered: those whose window ran out go at once (not those leased to an attempt on another replica).
    private const string ExpireSql = """
        WITH x AS (
            UPDATE notification_outbox SET dead_at = @now,
                last_error = left('not delivered within the maximum age; the subscriber''s last error: ' || f.error, 1000)
            FROM unnest(@failing, @failing_errors) AS f(id, error)
            WHERE subscription_id = f.id AND dead_at IS NULL AND next_attempt_at <= @now AND window_start <= @expired_before
            RETURNING subscription_id)
        SELECT subscription_id AS expired_subscription, count(*)::int FROM x GROUP BY subscription_id
        """;

    private async Task<List<ClaimedNotification>> PumpAsync(string connectionString, List<Attempted> ended, int room, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        // No explicit transaction: a batch runs in one implicit transaction, so a turn that fails wrote nothing.
        await using var batch = new NpgsqlBatch(connection);
        if (ended.Count > 0)
        {
            AddOutcomes(batch, ended, now);
        }

        if (room > 0)
        {
            AddClaim(batch, room, now);
        }

        var claimed = new List<ClaimedNotification>();
        await using var reader = await batch.ExecuteReaderAsync(ct);
        do
        {
            var expired = reader.FieldCount > 0 && reader.GetName(0) == "expired_subscription";
            if (!expired && reader.FieldCount != 9)
            {
                // The claim's planner setting: nothing to read.
                continue;
            }

            while (await reader.ReadAsync(ct))
            {
                if (expired)
                {
                    LogExpired(logger, reader.GetGuid(0), reader.GetInt32(1));
                    continue;
                }

                claimed.Add(new(reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetInt32(3), reader.GetFieldValue<DateTimeOffset>(4),
                    reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8)));
            }
        }
        while (await reader.NextResultAsync(ct));

        // Claimed in id order; handed out in it too, so pairs started together start in order.
        claimed.Sort((a, b) => a.Id.CompareTo(b.Id));
        return claimed;
    }

    private void AddOutcomes(NpgsqlBatch batch, List<Attempted> ended, DateTimeOffset now)
    {
        var o = options.Value;
        var delivered = ended.Where(a => a.Outcome.Delivered).Select(a => a.Row.Id).ToArray();
        if (delivered.Length > 0)
        {
            batch.BatchCommands.Add(Command("DELETE FROM notification_outbox WHERE id = ANY(@ids)", ("ids", delivered)));
        }

        var failed = ended.Where(a => !a.Outcome.Delivered).ToList();
        if (failed.Count > 0)
        {
            var dead = failed.Select(a => now - a.Row.WindowStart >= o.MaxAge).ToArray();
            batch.BatchCommands.Add(Command("""
                UPDATE notification_outbox o SET next_attempt_at = f.retry, last_error = f.error, dead_at = CASE WHEN f.dead THEN @now END
                FROM unnest(@ids, @retries, @errors, @dead) AS f(id, retry, error, dead) WHERE o.id = f.id
                """, ("ids", failed.Select(a => a.Row.Id).ToArray()), ("retries", failed.Select(a => now + Backoff(a.Row.Attempts)).ToArray()),
                ("errors", failed.Select(a => a.Outcome.Error!).ToArray()), ("dead", dead), ("now", now)));
            for (var i = 0; i < failed.Count; i++)
            {
                var a = failed[i];
                if (dead[i])
                {
                    LogDeadLettered(logger, a.Row.NotificationId, a.Row.SubscriptionId, a.Outcome.Error!);
                }
                else
                {
                    LogAttemptFailed(logger, a.Row.NotificationId, a.Row.SubscriptionId, a.Row.Attempts, a.Outcome.Error!);
                }
            }
        }

        // Each subscriber's last outcome of the turn: its backoff grows once per turn that ended failing, not once per failed notification.
        var last = new Dictionary<Guid, AttemptOutcome>();
        foreach (var a in ended.OrderBy(a => a.At))
        {
            last[a.Row.SubscriptionId] = a.Outcome;
        }

        var ids = last.Keys.Order().ToArray();
        batch.BatchCommands.Add(Command(HealthSql, ("subscriptions", ids), ("ok", ids.Select(id => last[id].Delivered).ToArray()),
            ("errors", ids.Select(id => last[id].Error ?? "").ToArray()), ("backoffs", ids.Select(_ => Jittered(o.MinBackoff).TotalSeconds).ToArray()),
            ("now", now), ("max", now + o.MaxBackoff)));
        var failing = ids.Where(id => !last[id].Delivered).ToArray();
        if (failing.Length > 0)
        {
            batch.BatchCommands.Add(Command(ExpireSql, ("failing", failing), ("failing_errors", failing.Select(id => last[id].Error!).ToArray()),
                ("now", now), ("expired_before", now - o.MaxAge)));
        }
    }

    private void AddClaim(NpgsqlBatch batch, int room, DateTimeOffset now)
    {
        var o = options.Value;
        // For the claim only (reverted when the turn's implicit transaction ends): before the outbox's first ANALYZE
        // PostgreSQL estimated one due row per subscriber and read all of each one's rows by bitmap, probed and
        // sorted them, 10 ms a subscriber, 1 s a turn at 150,000 rows (EXPLAIN ANALYZE during make
        // bench-notifications, 2026-12-07); without bitmaps the ordered walk of the index is its only good plan.
        // Nor a merge or hash join: after an ANALYZE taken while the outbox was nearly empty (a burst had drained),
        // PostgreSQL answered each row's "no earlier row of its migration pending" with a Merge Anti Join over the
        // subscriber's whole range instead of one index probe back, and the claim took 0.45-1.3 s a turn as the
        // outbox grew, until the next ANALYZE (make bench-notifications --migration-rate 10, 2026-12-07: EXPLAIN
        // every 5 s beside the slow-statement log). With both off the plan stayed the probe at every size seen.
        batch.BatchCommands.Add(Command("""
            SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_mergejoin', 'off', true),
                   set_config('enable_hashjoin', 'off', true)
            """));
        // This replica's own view of each subscriber: full (no room), or with room for fewer than its cap.
        var busy = new List<Guid>();
        var active = new List<Guid>();
        var activeRoom = new List<int>();
        foreach (var (id, inFlight) in _inFlightPerSubscriber)
        {
            var left = (_failing.Contains(id) ? 1 : o.MaxParallelPerSubscriber) - inFlight;
            if (left <= 0)
            {
                busy.Add(id);
            }

            active.Add(id);
            activeRoom.Add(Math.Max(left, 0));
        }

        batch.BatchCommands.Add(Command(ClaimSql,
            ("lease_end", now + o.AttemptTimeout + o.AttemptTimeout + TimeSpan.FromSeconds(10)), ("now", now),
            ("busy", busy.ToArray()), ("active", active.ToArray()), ("active_room", activeRoom.ToArray()),
            ("per_subscriber", o.MaxParallelPerSubscriber), ("limit", room)));
    }

    private static NpgsqlBatchCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }
}
