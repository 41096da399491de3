using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ferry.Api.Http;
using Ferry.Api.Migrations;
using Ferry.Api.Notifications;
using Ferry.Domain.Migrations;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Persistence;

/// <summary>
/// The event log is written here, by every save that changes a migration's state or marks a
/// progress sample for the streams, in the same transaction as the change: whichever code path moves
/// a migration (a request, the scheduler, an agent's report on any replica), the streams see it,
/// and they never see a change that was rolled back.
/// </summary>
internal sealed partial class FerryDbContext
{
    /// <summary>Shadow property of migrations: when the last progress event was written (null: none yet).</summary>
    public const string ProgressEventAt = "ProgressEventAt";

    /// <summary>The channel a commit with events notifies (payload: the migration id): the sequencers of every replica listen.</summary>
    public const string EventChannel = "ferry_migration_events";

    private static readonly JsonSerializerOptions EventJson = ApiJson.Create();

    /// <summary>Not supported: the event log is written with the asynchronous save only.</summary>
    public override int SaveChanges(bool acceptAllChangesOnSuccess) =>
        throw new NotSupportedException("Ferry saves with SaveChangesAsync, which writes the migration event log in the same transaction.");

    /// <summary>Saves, appending the events of every migration whose state changed (or that has a progress sample to publish) in the same transaction.</summary>
    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        ChangeTracker.DetectChanges();
        var notifications = new List<NotificationEvent>();
        var events = PendingEvents(notifications);
        if (events.Count == 0)
        {
            return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        }

        // The scheduler saves inside its own transaction (and commits right after); elsewhere this one is ours.
        var transaction = Database.CurrentTransaction is null ? await Database.BeginTransactionAsync(cancellationToken) : null;
        var savepoints = Database.AutoSavepointsEnabled;
        try
        {
            // In a transaction it did not begin, EF brackets its statements with a savepoint (two more round trips,
            // a third of those of a state change); in ours a failed save rolls the whole transaction back anyway.
            Database.AutoSavepointsEnabled = savepoints && transaction is null;
            var written = await base.SaveChangesAsync(acceptAllChangesOnSuccess: false, cancellationToken);
            await AppendAsync(events, notifications, cancellationToken);
            if (transaction is not null)
            {
                await transaction.CommitAsync(cancellationToken);
            }

            if (acceptAllChangesOnSuccess)
            {
                ChangeTracker.AcceptAllChanges();
            }

            return written;
        }
        finally
        {
            Database.AutoSavepointsEnabled = savepoints;
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }
        }
    }

    private List<MigrationEvent> PendingEvents(List<NotificationEvent> notifications)
    {
        var events = new List<MigrationEvent>();
        foreach (var entry in ChangeTracker.Entries<Migration>())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified))
            {
                continue;
            }

            var m = entry.Entity;
            // The timeline's original value is a deep copy (JsonColumn's comparer snapshots it), so the
            // phases entered since the migration was read are the state entries beyond the original's.
            var known = entry.State == EntityState.Added ? 0
                : ((IEnumerable<TimelineEntry>)entry.Property("_timeline").OriginalValue!).Count(e => e.Event is null);
            var view = MigrationView.From(m);
            var states = m.Timeline.Select((e, i) => (Entry: e, Index: i)).Where(e => e.Entry.Event is null).ToList();
            foreach (var (state, index) in states.Skip(known))
            {
                // A save that moved through several phases (a report that skipped ahead) gives one event
                // each, showing the migration as it stood in that phase.
                var asOf = index == states[^1].Index
                    ? view
                    : view with { State = state.State, UpdatedAt = state.At, Timeline = m.Timeline.Take(index + 1).ToList(), Result = null, FailureReason = null };
                events.Add(Event(m.Id, MigrationEventKinds.State, state.State, state.At, asOf));
                var previous = states.LastOrDefault(e => e.Index < index).Entry?.State;
                if (NotificationEvent.Of(m, state.State, previous, state.At, view) is { } notification)
                {
                    notifications.Add(notification);
                }
            }

            if (entry.Property(ProgressEventAt).IsModified && m.Progress is { } sample)
            {
                events.Add(Event(m.Id, MigrationEventKinds.Progress, sample.State, sample.At, sample));
            }

            if (m.IsTerminal && states.Count > known)
            {
                events.Add(Event(m.Id, MigrationEventKinds.Result, m.State, m.UpdatedAt, view));
            }
        }

        return events;
    }

    private static MigrationEvent Event<T>(Guid migrationId, string kind, MigrationState state, DateTimeOffset at, T data) =>
        new() { MigrationId = migrationId, Kind = kind, State = state, At = at.ToUniversalTime(), Data = JsonSerializer.Serialize(data, EventJson) };

    private async Task AppendAsync(List<MigrationEvent> events, List<NotificationEvent> notifications, CancellationToken ct)
    {
        // No lock and no order across writers here: rows go in without a position, and the sequencer
        // (EventSequencer) positions committed rows in order. Until 2026-12-07 each writer held one advisory lock
        // from its insert to its commit so that ids became visible in id order; every state change in the cluster
        // queued behind the holder's next turn on a CPU, which capped `make bench-control-plane` at 200-240 such
        // transactions a second (docs/benchmarks.md). One round trip: ended migrations' progress events go
        // (bounded: once it has ended, its states and result tell its story), the events are inserted in their
        // order (ORDER BY ordinality: ids follow it, and the sequencer keeps id order within what it positions),
        // and every migration named is announced at commit to every replica's sequencer; nothing if rolled back.
        var ended = events.Where(e => e.Kind == MigrationEventKinds.Result).Select(e => e.MigrationId).Distinct().ToArray();
        var ids = events.Select(e => e.MigrationId).ToArray();
        var kinds = events.Select(e => e.Kind).ToArray();
        var states = events.Select(e => e.State.ToString()).ToArray();
        var ats = events.Select(e => e.At).ToArray();
        var data = events.Select(e => e.Data).ToArray();
        var named = events.Select(e => e.MigrationId.ToString()).Distinct().ToArray();
        FormattableString sql = $"""
            DELETE FROM migration_events WHERE migration_id = ANY({ended}) AND kind = {MigrationEventKinds.Progress};
            INSERT INTO migration_events (migration_id, kind, state, at, data)
                SELECT e.migration_id, e.kind, e.state, e.at, e.data::json
                FROM unnest({ids}, {kinds}, {states}, {ats}, {data}) WITH ORDINALITY AS e(migration_id, kind, state, at, data, n)
                ORDER BY e.n;

            """;
        if (notifications.Count > 0)
        {
            // In the same statement, after the events and before the announcement (FerryDbContext.Notifications.cs).
            sql = Concat(sql, OutboxInsert(notifications));
        }

        await Database.ExecuteSqlAsync(Concat(sql, $"SELECT pg_notify({EventChannel}, n.id) FROM unnest({named}) AS n(id);"), ct);
    }

    /// <summary>One SQL text of two, the second's placeholders renumbered to follow the first's arguments.</summary>
    private static FormattableString Concat(FormattableString first, FormattableString second)
    {
        var shift = first.ArgumentCount;
        // "{{" is an escaped brace; any other "{" opens a placeholder whose index follows it.
        var format = Placeholder().Replace(second.Format,
            m => m.Groups[1].Success ? "{" + (int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture) + shift) : m.Value);
        return FormattableStringFactory.Create(first.Format + format, [.. first.GetArguments(), .. second.GetArguments()]);
    }

    [GeneratedRegex(@"\{\{|\{(\d+)")]
    private static partial Regex Placeholder();
}
