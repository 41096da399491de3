using Ferry.Api.Events;
using Ferry.Api.Http;
using Ferry.Api.Observability;
using Ferry.Api.Persistence;
using Ferry.Contracts;
using Ferry.Domain.Migrations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using DomainMigration = Ferry.Domain.Migrations.Migration;

namespace Ferry.Api.Agents;

/// <summary>
/// Applies what a source agent reports about a migration, whether it arrives on the dispatcher's
/// Migrate stream or later through ControlPlane.ReportProgress/ReportResult. Reports are applied
/// once: a sequence number at or below the last applied one, or any report on an ended
/// migration, changes nothing. A running report's figures become the migration's latest progress
/// sample, and an event for the streams at most every <see cref="EventOptions.ProgressInterval"/>.
/// </summary>
public sealed class MigrationReports(TimeProvider time, FerryMetrics metrics, IOptions<EventOptions> events)
{
    /// <summary>Applies <paramref name="report"/>; returns false when the migration is unknown.</summary>
    internal async Task<bool> ApplyAsync(FerryDbContext db, MigrationProgress report, CancellationToken ct)
    {
        if (!Guid.TryParse(report.MigrationId, out var id))
        {
            return false;
        }

        for (var attempt = 0; ; attempt++)
        {
            var migration = await db.Migrations.FirstOrDefaultAsync(m => m.Id == id, ct);
            if (migration is null)
            {
                return false;
            }

            var entry = db.Entry(migration);
            var last = entry.Property<long>("LastProgressSequence");
            if (migration.IsTerminal || report.Sequence <= last.CurrentValue)
            {
                return true;
            }

            var now = time.Now();
            Apply(migration, report, now);
            last.CurrentValue = report.Sequence;
            var published = entry.Property<DateTimeOffset?>(FerryDbContext.ProgressEventAt);
            if (report.Phase == MigrationPhase.Running && !migration.IsTerminal
                && (published.CurrentValue is not { } at || now - at >= events.Value.ProgressInterval))
            {
                // The row is written for every report anyway (the progress timeout's clock); an event
                // costs one more insert, at most every interval, whichever replica the report reached.
                published.CurrentValue = now;
            }

            if (migration.IsTerminal && await db.Guests.FirstOrDefaultAsync(g => g.Id == migration.GuestId, ct) is { } guest)
            {
                guest.EndMigration(migration.GuestOnTarget ? migration.TargetHostId!.Value : migration.SourceHostId);
            }

            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
                // The scheduler or a cancel changed it meanwhile: apply to the fresh state.
                db.ChangeTracker.Clear();
                continue;
            }

            if (migration.IsTerminal)
            {
                metrics.RecordFinished(migration);
            }

            return true;
        }
    }

    /// <summary>
    /// Records what an agent said about where the guest is, when the source's own report is missing: the
    /// source said a cancel came too late (<see cref="GuestPlace.PastThePause"/>), or the target's agent says
    /// the guest runs there (<see cref="GuestPlace.Target"/>, which completes it unmeasured). Returns false when
    /// the migration had meanwhile moved on (ended, or reports made it past this point) and nothing changed.
    /// </summary>
    internal async Task<bool> RecordPlaceAsync(FerryDbContext db, Guid id, GuestPlace place, string note, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var migration = await db.Migrations.FirstOrDefaultAsync(m => m.Id == id, ct);
            if (migration is null || migration.IsTerminal)
            {
                return false;
            }

            var now = time.Now();
            if (MigrationStateMachine.IsBeforeSwitchover(migration.State) || migration.State == MigrationState.Cancelling)
            {
                ForwardTo(migration, MigrationState.SwitchingOver, now);
            }

            if (migration.State is not (MigrationState.SwitchingOver or MigrationState.CleaningUp))
            {
                // Not even the target was ready: no agent can have paused or moved the guest.
                return false;
            }

            if (place == GuestPlace.Target)
            {
                migration.CompleteUnmeasured(note, now);
                if (await db.Guests.FirstOrDefaultAsync(g => g.Id == migration.GuestId, ct) is { } guest)
                {
                    guest.EndMigration(migration.TargetHostId!.Value);
                }
            }

            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
                continue;
            }

            if (migration.IsTerminal)
            {
                metrics.RecordFinished(migration);
            }

            return true;
        }
    }

    private static void Apply(DomainMigration m, MigrationProgress report, DateTimeOffset now)
    {
        switch (report.Phase)
        {
            case MigrationPhase.Running:
                ForwardTo(m, MigrationState.Running, now);
                m.Touch(now);
                m.RecordProgress(ProgressSample.Measured(m.Id, m.State, report.Pass, report.RemainingBytes, report.TransferredBytes,
                    report.DirtyPagesPerSecond, report.ThroughputMbps, now));
                break;
            case MigrationPhase.SwitchingOver:
                ForwardTo(m, MigrationState.SwitchingOver, now);
                break;
            case MigrationPhase.CleaningUp:
                ForwardTo(m, MigrationState.CleaningUp, now);
                break;
            case MigrationPhase.Completed:
                ForwardTo(m, MigrationState.CleaningUp, now);
                m.Complete(report.Stats?.ToResult() ?? new MigrationResult(), now);
                break;
            case MigrationPhase.Failed:
                if (report.GuestOnTarget)
                {
                    ForwardTo(m, MigrationState.SwitchingOver, now);
                }

                m.Fail(string.IsNullOrWhiteSpace(report.FailureReason) ? "the source agent reported a failure without a reason" : report.FailureReason, now, report.GuestOnTarget);
                break;
            case MigrationPhase.Cancelled:
                // The source stopped, but the target may still hold a QEMU and its ports: the
                // scheduler's abort tears the target down and only then confirms the cancel, so
                // "cancelled" always means nothing is left on the target.
                m.Cancel(now, report.FailureReason);
                break;
        }
    }

    /// <summary>Moves forward through the flow up to <paramref name="state"/>; never backwards, never out of a cancel.</summary>
    private static void ForwardTo(DomainMigration m, MigrationState state, DateTimeOffset now)
    {
        MigrationState[] flow = [MigrationState.TargetReady, MigrationState.Running, MigrationState.SwitchingOver, MigrationState.CleaningUp];
        var target = Array.IndexOf(flow, state);
        // A migration being cancelled stands where it was running; past the pause the cancel has lost the race.
        var from = m.State == MigrationState.Cancelling ? Array.IndexOf(flow, MigrationState.Running) : Array.IndexOf(flow, m.State);
        for (var i = from + 1; i > 0 && i <= target; i++)
        {
            m.Advance(flow[i], now);
        }
    }
}
