using System.Text.Json;
using Ferry.Api.Notifications;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Persistence;

/// <summary>
/// The notification outbox is written beside the event log, in the same statement and transaction: a state
/// change that notifies (a migration entering STARTING or PROCESSING, or ending) inserts one outbox row per
/// subscription whose filter matches it, so a notification is never lost to a crash after the commit and
/// never sent for a change that rolled back.
/// </summary>
internal sealed partial class FerryDbContext
{
    /// <summary>The channel a commit that wrote outbox rows notifies; every replica's delivery listens.</summary>
    public const string NotificationChannel = "ferry_notifications";

    public DbSet<Subscription> Subscriptions => Set<Subscription>();

    public DbSet<OutboxNotification> OutboxNotifications => Set<OutboxNotification>();

    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>The statement that inserts the outbox rows of <paramref name="notifications"/>, appended to the event log's (AppendAsync).</summary>
    private static FormattableString OutboxInsert(List<NotificationEvent> notifications)
    {
        // The matching is one join in the statement that writes the event log, so the write path gains no round
        // trip (the control-plane benchmark counts those; see AppendAsync). A migration's notifications are
        // delivered in outbox id order, which is their commit order without any lock: every transaction that writes
        // them first updated the migration's row, so the next one for the same migration inserts only after this
        // one committed. With no subscription the join is empty; the matching columns are arrays on the
        // subscription, null meaning "any".
        var nMigrations = notifications.Select(n => n.MigrationId).ToArray();
        var nGuestIds = notifications.Select(n => n.GuestId.ToString()).ToArray();
        var nGuests = notifications.Select(n => n.Guest).ToArray();
        var nVnfs = notifications.Select(n => n.VnfInstanceId).ToArray();
        var nOperations = notifications.Select(n => n.OperationState).ToArray();
        var nAts = notifications.Select(n => n.TimeStamp).ToArray();
        var nPayloads = notifications.Select(n => JsonSerializer.Serialize(n, EventJson)).ToArray();
        return $"""
            WITH n AS (
                SELECT * FROM unnest({nMigrations}, {nGuestIds}, {nGuests}, {nVnfs}, {nOperations}, {nAts}, {nPayloads})
                    WITH ORDINALITY AS n(migration_id, guest_id, guest, vnf, operation, at, payload, k)
            ), written AS (
                INSERT INTO notification_outbox (notification_id, subscription_id, migration_id, created_at, window_start, next_attempt_at, attempts, payload)
                SELECT gen_random_uuid(), s.id, n.migration_id, n.at, n.at, n.at, 0, n.payload::json
                FROM n JOIN subscriptions s
                  ON (s.filter_guests IS NULL OR n.guest = ANY(s.filter_guests) OR n.guest_id = ANY(s.filter_guests))
                 AND (s.filter_vnf_instance_ids IS NULL OR n.vnf = ANY(s.filter_vnf_instance_ids))
                 AND (s.filter_notification_types IS NULL OR {MigrationOccurrenceNotification.Type} = ANY(s.filter_notification_types))
                 AND (s.filter_operation_states IS NULL OR n.operation = ANY(s.filter_operation_states))
                ORDER BY n.k, s.id
                RETURNING 1
            )
            SELECT pg_notify({NotificationChannel}, '') FROM (SELECT 1 FROM written LIMIT 1) AS any_written;

            """;
    }
}
