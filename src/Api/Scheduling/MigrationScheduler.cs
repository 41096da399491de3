using System.Collections.Concurrent;
using Ferry.Api.Http;
using Ferry.Api.Observability;
using Ferry.Api.Persistence;
using Ferry.Api.Testing;
using Ferry.Domain.Guests;
using Ferry.Domain.Migrations;
using Ferry.Domain.Placement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ferry.Api.Scheduling;

/// <summary>
/// Claims migrations from PostgreSQL and hands them to the <see cref="IMigrationDispatcher"/>.
/// Claims use <c>FOR UPDATE SKIP LOCKED</c> and a lease, so API replicas share the queue and a
/// replica that dies has its migrations taken over when its lease expires. Capacity decisions
/// (limits per host and per cluster, placement) are serialized across replicas by a
/// transaction-scoped advisory lock, so two replicas never both fill the last slot.
/// </summary>
public sealed partial class MigrationScheduler(
    IServiceScopeFactory scopes,
    IMigrationDispatcher dispatcher,
    QueueHold hold,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    FerryMetrics metrics,
    ILogger<MigrationScheduler> logger) : BackgroundService
{
    /// <summary>Advisory lock key for capacity decisions ("FERRY" in ASCII).</summary>
    private const long CapacityLockKey = 0x4645525259;

    private static readonly List<MigrationState> ActiveStates = [.. MigrationStateMachine.ActiveStates];

    private static readonly string[] ActiveStateNames = MigrationStateMachine.ActiveStates.Select(s => s.ToString()).ToArray();

    private readonly SchedulerOptions _options = options.Value;
    private readonly ConcurrentDictionary<Guid, Run> _runs = new();

    // Migrations whose last attempt (a run that ended without the migration's end, or an abort the agents could
    // not settle) is retried no sooner than this: an agent that refuses or cannot be reached is asked again with
    // backoff, not in a loop (a run whose Migrate call was refused was handed over again ~80 times a second).
    private readonly ConcurrentDictionary<Guid, Retry> _retries = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private CancellationToken _stopping;

    /// <summary>This instance's identity in leases.</summary>
    public string InstanceId { get; } = options.Value.InstanceId ?? $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>Migrations this instance is driving now.</summary>
    public IReadOnlyCollection<Guid> InFlight => _runs.Keys.ToList();

    /// <summary>Polls at once instead of at the next interval (a migration was just requested).</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    /// <summary>
    /// A cancel was recorded for <paramref name="migrationId"/> (its row is <c>Cancelling</c>): drops the backoff of an
    /// earlier attempt and wakes the poll loop. Nothing is stopped here; the next pass reads the row and, through
    /// <c>AbortAsync</c>, stops driving the migration and asks the agents to cancel it. The row, not this call,
    /// carries the cancel, so an instance that never got this call (another replica, or after a restart) acts on it too.
    /// </summary>
    public void RequestCancel(Guid migrationId)
    {
        // A cancel is acted on at once, not after the backoff of an earlier attempt.
        _retries.TryRemove(migrationId, out _);
        Wake();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        if (!_options.Enabled)
        {
            LogDisabled(logger);
            return;
        }

        LogStarted(logger, InstanceId);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or DbUpdateException or TimeoutException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                // The database may be restarting; the next poll tries again and nothing was lost.
                LogPollFailed(logger, e);
            }

            try
            {
                await _wake.WaitAsync(_options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(_runs.Values.Select(r => r.Task));
    }

    /// <summary>One scheduling pass: renew leases, enforce timeouts, act on cancels, claim and schedule, resume orphans.</summary>
    public async Task RunOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
        await RenewLeasesAsync(db, ct);
        // What this instance drives is watched too: cancels and timeouts apply to it first of all.
        var ids = _runs.Keys.Concat(await ClaimAsync(db, ct)).Distinct().ToList();

        // One read of every migration the pass looks at and one of their guests, not two per migration: with 1000
        // hosts the pass looked at ~1200 migrations (200 claimed, the rest in flight) one by one, and
        // `make bench-control-plane` dispatched 29 migrations/s. Cancels and timeouts, rare, are still decided one
        // by one on tracked, fresh state.
        var migrations = await db.Migrations.AsNoTracking().Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
        var guestIds = migrations.Values.Select(m => m.GuestId).Distinct().ToList();
        var guests = await db.Guests.AsNoTracking().Where(g => guestIds.Contains(g.Id)).ToDictionaryAsync(g => g.Id, ct);
        var now = time.Now();
        var queued = new List<Guid>();
        var waiting = new List<Guid>();
        foreach (var id in ids)
        {
            if (!migrations.TryGetValue(id, out var migration))
            {
                continue;
            }

            if (migration.State == MigrationState.Cancelling || TimeoutReason(migration, guests.GetValueOrDefault(migration.GuestId), now) is not null)
            {
                db.ChangeTracker.Clear();
                try
                {
                    await AbortIfDueAsync(db, id, ct);
                }
                catch (DbUpdateConcurrencyException)
                {
                    // Someone else (a cancel request, an agent report) changed it meanwhile; decide again at the next poll.
                    LogChangedMeanwhile(logger, id);
                }
            }
            else if (migration.State == MigrationState.Queued)
            {
                (await hold.HoldsAsync(id, ct) ? waiting : queued).Add(id);
            }
            else if (migration.IsTerminal)
            {
                _retries.TryRemove(id, out _);
            }
            else if (!_runs.ContainsKey(id) && IsDue(id, now))
            {
                Dispatch(id);
            }
        }

        if (queued.Count > 0)
        {
            db.ChangeTracker.Clear();
            var scheduled = await ScheduleAsync(db, queued, ct);
            foreach (var id in queued)
            {
                if (!scheduled.Contains(id))
                {
                    waiting.Add(id);
                }
                else if (IsDue(id, now))
                {
                    Dispatch(id);
                }
            }
        }

        if (waiting.Count > 0)
        {
            // Waiting for capacity (or ended by placement): let any replica try it next time.
            var released = waiting.ToArray();
            await db.Database.ExecuteSqlAsync($"DELETE FROM migration_leases WHERE migration_id = ANY({released}) AND owner = {InstanceId}", ct);
        }

        // Entries of migrations that ended elsewhere (a report, another replica) are never looked at again.
        var forgotten = time.GetUtcNow() - TimeSpan.FromMinutes(10);
        foreach (var stale in _retries.Where(r => r.Value.NotBefore < forgotten).Select(r => r.Key).ToList())
        {
            _retries.TryRemove(stale, out _);
        }

        metrics.ObserveActive(await db.Migrations.AsNoTracking()
            .Where(m => ActiveStates.Contains(m.State))
            .GroupBy(m => m.State).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct));
    }

    private async Task RenewLeasesAsync(FerryDbContext db, CancellationToken ct)
    {
        var ids = _runs.Keys.ToArray();
        if (ids.Length == 0)
        {
            return;
        }

        var expires = time.Now() + _options.Lease;
        await db.Database.ExecuteSqlAsync(
            $"UPDATE migration_leases SET expires_at = {expires} WHERE owner = {InstanceId} AND migration_id = ANY({ids})", ct);
    }

    private async Task<List<Guid>> ClaimAsync(FerryDbContext db, CancellationToken ct)
    {
        var now = time.Now();
        var expires = now + _options.Lease;
        // Row locks (FOR UPDATE) leave xmin alone; only the lease table is written. Migrations this
        // instance already drives are renewed apart, so they never take a place in the batch.
        var inFlight = _runs.Keys.ToArray();
        return await db.Database.SqlQuery<Guid>($"""
            WITH claimed AS (
                INSERT INTO migration_leases (migration_id, owner, expires_at)
                SELECT m.id, {InstanceId}, {expires}
                FROM migrations m LEFT JOIN migration_leases l ON l.migration_id = m.id
                WHERE m.state = ANY({ActiveStateNames})
                  AND NOT m.id = ANY({inFlight})
                  AND (l.migration_id IS NULL OR l.expires_at < {now} OR l.owner = {InstanceId})
                ORDER BY m.policy_priority DESC, m.created_at, m.id
                LIMIT {_options.BatchSize}
                FOR UPDATE OF m SKIP LOCKED
                ON CONFLICT (migration_id) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
                    WHERE migration_leases.expires_at < {now} OR migration_leases.owner = {InstanceId}
                RETURNING migration_id)
            SELECT m.id AS "Value" FROM migrations m JOIN claimed c ON c.migration_id = m.id
            ORDER BY m.policy_priority DESC, m.created_at, m.id
            """).ToListAsync(ct);
    }

    /// <summary>A migration being cancelled, or past one of its timeouts: decided again on fresh, tracked state.</summary>
    private async Task AbortIfDueAsync(FerryDbContext db, Guid id, CancellationToken ct)
    {
        var migration = await db.Migrations.SingleAsync(m => m.Id == id, ct);
        var guest = await db.Guests.FirstOrDefaultAsync(g => g.Id == migration.GuestId, ct);
        var now = time.Now();
        if (migration.State == MigrationState.Cancelling)
        {
            if (IsDue(id, now))
            {
                await AbortAsync(db, migration, guest, null, ct);
            }
        }
        else if (TimeoutReason(migration, guest, now) is { } reason)
        {
            await AbortAsync(db, migration, guest, reason, ct);
        }
    }

    private string? TimeoutReason(Migration m, Guest? guest, DateTimeOffset now)
    {
        if (m.State == MigrationState.Queued)
        {
            return now - m.CreatedAt > _options.QueueTimeout
                ? $"not scheduled within {_options.QueueTimeout.TotalSeconds:F0} s: no capacity or no fitting target"
                : null;
        }

        if (!MigrationStateMachine.IsBeforeSwitchover(m.State))
        {
            // Past the pause only the agents can finish it; a timeout would not make the source the truth again.
            return null;
        }

        var completion = m.Policy.CompletionTimeout(guest?.MemoryMiB ?? 1024);
        if (m.StartedAt is { } started && now - started > completion)
        {
            return $"did not complete within the completion timeout of {completion.TotalSeconds:F0} s";
        }

        var progress = TimeSpan.FromSeconds(m.Policy.ProgressTimeoutSeconds);
        return now - m.UpdatedAt > progress ? $"no progress for {progress.TotalSeconds:F0} s (progress timeout) in {m.State}" : null;
    }

    /// <summary>
    /// Places the queued migrations <paramref name="ids"/>, in their claim order (priority, then age), under the
    /// capacity lock and against one read of the hosts and of the migrations in flight, which every placement updates:
    /// the limits hold within the batch as they did one at a time, for one lock, three reads and one write per pass.
    /// Returns the ones scheduled; the others wait (or ended: their guest is gone, or they fit nowhere).
    /// </summary>
    private async Task<HashSet<Guid>> ScheduleAsync(FerryDbContext db, List<Guid> ids, CancellationToken ct)
    {
        var scheduled = new HashSet<Guid>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({CapacityLockKey})", ct);
        // Re-read under the lock: another replica may have decided meanwhile.
        var migrations = await db.Migrations.Where(m => ids.Contains(m.Id) && m.State == MigrationState.Queued).ToDictionaryAsync(m => m.Id, ct);
        if (migrations.Count == 0)
        {
            return scheduled;
        }

        var guestIds = migrations.Values.Select(m => m.GuestId).Distinct().ToList();
        var guests = await db.Guests.Where(g => guestIds.Contains(g.Id)).ToDictionaryAsync(g => g.Id, ct);
        var load = await db.Migrations.AsNoTracking()
            .Where(m => ActiveStates.Contains(m.State))
            .Where(m => m.State != MigrationState.Queued)
            .Select(m => new { m.SourceHostId, m.TargetHostId })
            .ToListAsync(ct);
        var inFlight = load.Count;
        var outbound = new Dictionary<Guid, int>();
        var inbound = new Dictionary<Guid, int>();
        var involved = new Dictionary<Guid, int>();
        void Count(Guid source, Guid? target)
        {
            outbound[source] = outbound.GetValueOrDefault(source) + 1;
            involved[source] = involved.GetValueOrDefault(source) + 1;
            if (target is { } t)
            {
                inbound[t] = inbound.GetValueOrDefault(t) + 1;
                involved[t] = involved.GetValueOrDefault(t) + 1;
            }
        }

        foreach (var l in load)
        {
            Count(l.SourceHostId, l.TargetHostId);
        }

        // Read-only here: placement reads them, only migrations and guests are written. Every host only when a
        // migration leaves its target to placement; otherwise the sources and targets named (a pass runs several
        // times a second under load, and 1000 hosts' inventories are most of what it would read).
        var named = migrations.Values.SelectMany(m => m.TargetHostId is { } t ? new[] { m.SourceHostId, t } : [m.SourceHostId]).Distinct().ToList();
        var hosts = migrations.Values.Any(m => m.TargetHostId is null)
            ? await db.Hosts.AsNoTracking().ToListAsync(ct)
            : await db.Hosts.AsNoTracking().Where(h => named.Contains(h.Id)).ToListAsync(ct);
        var hostsById = hosts.ToDictionary(h => h.Id);
        var now = time.Now();
        var changed = false;
        var placed = new List<(Guid Id, string Source, string Target)>();
        var failed = new List<(Guid Id, string Reason)>();
        foreach (var id in ids)
        {
            if (!migrations.TryGetValue(id, out var migration))
            {
                continue;
            }

            if (!guests.TryGetValue(migration.GuestId, out var guest))
            {
                migration.Fail("the guest was deleted before the migration started", now);
                changed = true;
                continue;
            }

            if (inFlight >= _options.MaxClusterWide)
            {
                LogAtCapacity(logger, migration.Id, "cluster-wide limit");
                continue;
            }

            if (outbound.GetValueOrDefault(migration.SourceHostId) >= _options.MaxOutboundPerHost)
            {
                LogAtCapacity(logger, migration.Id, $"outbound limit of {migration.SourceHostName}");
                continue;
            }

            if (!hostsById.TryGetValue(migration.SourceHostId, out var source))
            {
                LogAtCapacity(logger, migration.Id, $"source host {migration.SourceHostName} not found");
                continue;
            }

            var pool = hosts;
            if (migration.TargetHostId is { } wanted)
            {
                pool = hostsById.TryGetValue(wanted, out var only) ? [only] : [];
            }

            var candidates = pool
                .Select(h => new PlacementCandidate(h, involved.GetValueOrDefault(h.Id), inbound.GetValueOrDefault(h.Id)))
                .ToList();
            var decision = PlacementRules.Choose(guest, source, candidates);
            if (decision.Target is null)
            {
                var reason = migration.TargetHostId is not null && candidates.Count == 0
                    ? $"target host '{migration.TargetHostName}' no longer exists"
                    : decision.Explain();
                migration.Fail(reason, now);
                guest.EndMigration(migration.SourceHostId);
                changed = true;
                failed.Add((migration.Id, reason));
                continue;
            }

            // Placement ignores inbound limits so that "fits nowhere" and "busy now" stay apart; a busy target waits.
            var target = decision.Target;
            if (inbound.GetValueOrDefault(target.Id) >= _options.MaxInboundPerHost)
            {
                target = PlacementRules.Choose(guest, source, candidates.Where(c => c.ActiveInbound < _options.MaxInboundPerHost)).Target;
            }

            if (target is null)
            {
                LogAtCapacity(logger, migration.Id, "inbound limit of every fitting target");
                continue;
            }

            migration.Schedule(target.Id, target.Name, now);
            inFlight++;
            Count(migration.SourceHostId, target.Id);
            scheduled.Add(migration.Id);
            placed.Add((migration.Id, migration.SourceHostName, target.Name));
            changed = true;
        }

        if (!changed)
        {
            return scheduled;
        }

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // A cancel (which takes no capacity lock) changed one of them meanwhile: nothing of the batch was written
            // (the transaction rolls back); the next poll decides again on fresh state.
            LogBatchChangedMeanwhile(logger, migrations.Count);
            return [];
        }

        await tx.CommitAsync(ct);
        foreach (var (id, reason) in failed)
        {
            LogPlacementFailed(logger, id, reason);
        }

        foreach (var (id, sourceName, targetName) in placed)
        {
            LogScheduled(logger, id, sourceName, targetName);
        }

        return scheduled;
    }

    private void Dispatch(Guid id)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
        var run = new Run(cts);
        if (!_runs.TryAdd(id, run))
        {
            cts.Dispose();
            return;
        }

        run.Task = Task.Run(async () =>
        {
            try
            {
                await dispatcher.RunAsync(id, cts.Token);
            }
            catch (Exception) when (cts.IsCancellationRequested)
            {
                // Shutting down or aborted: the persisted state says where it stands.
            }
            catch (DbUpdateConcurrencyException)
            {
                // Changed meanwhile (a cancel, an agent's report): handed over again at the next poll, on fresh state.
                LogChangedMeanwhile(logger, id);
            }
            catch (Exception e)
            {
                LogDispatchFailed(logger, id, e);
            }
            finally
            {
                // A run that returns while the migration goes on (the stream broke, the agent refused) is handed over
                // again later, after a backoff; the end or a timeout removes the entry.
                Backoff(id);
                _runs.TryRemove(id, out _);
                cts.Dispose();
                await ReleaseAsync(id);
                Wake();
            }
        }, CancellationToken.None);
    }

    private async Task ReleaseAsync(Guid id)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
            await db.Database.ExecuteSqlAsync($"DELETE FROM migration_leases WHERE migration_id = {id} AND owner = {InstanceId}", CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // The lease expires by itself.
        }
    }

    private async Task AbortAsync(FerryDbContext db, Migration migration, Guest? guest, string? failureReason, CancellationToken ct)
    {
        if (_runs.TryGetValue(migration.Id, out var run))
        {
            // Stop driving it first, and let that run finish, before deciding on fresh state.
            try
            {
                await run.Cts.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // It ended by itself meanwhile (its source answered, or refused).
            }

            try
            {
                // Bounded: a run stuck in a call that ignores cancellation must not hold up every other migration's pass.
                await run.Task.WaitAsync(_options.PollInterval * 10, time, ct);
            }
            catch (TimeoutException)
            {
                LogRunStuck(logger, migration.Id);
            }
        }

        await db.Entry(migration).ReloadAsync(ct);
        var now = time.Now();
        if (failureReason is not null)
        {
            if (!migration.Abort(failureReason, now))
            {
                return;
            }

            // Persisted before the agents are told, so that a restart finishes the abort.
            await db.SaveChangesAsync(ct);
            LogTimedOut(logger, migration.Id, failureReason);
        }

        if (migration.State == MigrationState.Cancelling)
        {
            if (!await dispatcher.AbortAsync(migration.Id, ct))
            {
                // Past the pause (the agents' reports carry it forward), or the agents could not say where the
                // guest is: asked again after a backoff.
                Backoff(migration.Id);
                return;
            }

            await db.Entry(migration).ReloadAsync(ct);
            if (migration.IsTerminal)
            {
                // The source's replayed end already ended it, and counted it.
                await SettleGuestAsync(db, migration, guest, ct);
                return;
            }

            if (migration.State == MigrationState.Cancelling)
            {
                migration.ConfirmCancelled(time.Now());
            }
        }

        if (!migration.IsTerminal)
        {
            return;
        }

        await SettleGuestAsync(db, migration, guest, ct);
        metrics.RecordFinished(migration);
        _retries.TryRemove(migration.Id, out _);
    }

    private static async Task SettleGuestAsync(FerryDbContext db, Migration migration, Guest? guest, CancellationToken ct)
    {
        if (guest is not null)
        {
            await db.Entry(guest).ReloadAsync(ct);
            guest.EndMigration(migration.GuestOnTarget ? migration.TargetHostId!.Value : migration.SourceHostId);
        }

        await db.SaveChangesAsync(ct);
    }

    /// <summary>Whether <paramref name="id"/> may be tried now, or waits for its backoff.</summary>
    private bool IsDue(Guid id, DateTimeOffset now) => !_retries.TryGetValue(id, out var retry) || retry.NotBefore <= now;

    /// <summary>Another attempt on <paramref name="id"/> went without its end: wait longer before the next (1 s doubling to 30 s).</summary>
    private void Backoff(Guid id)
    {
        var now = time.GetUtcNow();
        _retries.AddOrUpdate(id,
            _ => new Retry(1, now + RetryDelay(1)),
            (_, r) => new Retry(r.Attempts + 1, now + RetryDelay(r.Attempts + 1)));
    }

    /// <summary>The wait before attempt <paramref name="attempts"/> + 1: 1 s doubling to 30 s (the dispatcher's settling uses it too).</summary>
    internal static TimeSpan RetryDelay(int attempts) => TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(attempts - 1, 5))));

    private sealed record Retry(int Attempts, DateTimeOffset NotBefore);

    private sealed class Run(CancellationTokenSource cts)
    {
        public CancellationTokenSource Cts { get; } = cts;

        public Task Task { get; set; } = Task.CompletedTask;
    }

    [LoggerMessage(EventId = ApiEventIds.SchedulerStarted, Level = LogLevel.Information, Message = "Scheduler {InstanceId} started")]
    private static partial void LogStarted(ILogger logger, string instanceId);

    [LoggerMessage(EventId = ApiEventIds.SchedulerDisabled, Level = LogLevel.Information, Message = "Scheduler disabled on this instance")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(EventId = ApiEventIds.SchedulerPassFailed, Level = LogLevel.Warning, Message = "Scheduling pass failed; retrying at the next poll")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = ApiEventIds.MigrationScheduled, Level = LogLevel.Information, Message = "Migration {MigrationId} scheduled: {Source} -> {Target}")]
    private static partial void LogScheduled(ILogger logger, Guid migrationId, string source, string target);

    [LoggerMessage(EventId = ApiEventIds.MigrationAtCapacity, Level = LogLevel.Debug, Message = "Migration {MigrationId} waits: {Limit} reached")]
    private static partial void LogAtCapacity(ILogger logger, Guid migrationId, string limit);

    [LoggerMessage(EventId = ApiEventIds.PlacementFailed, Level = LogLevel.Warning, Message = "Migration {MigrationId} failed placement: {Reason}")]
    private static partial void LogPlacementFailed(ILogger logger, Guid migrationId, string reason);

    [LoggerMessage(EventId = ApiEventIds.MigrationTimedOut, Level = LogLevel.Warning, Message = "Migration {MigrationId} failed: {Reason}")]
    private static partial void LogTimedOut(ILogger logger, Guid migrationId, string reason);

    [LoggerMessage(EventId = ApiEventIds.MigrationChangedMeanwhile, Level = LogLevel.Debug, Message = "Migration {MigrationId} changed during the pass; revisited next poll")]
    private static partial void LogChangedMeanwhile(ILogger logger, Guid migrationId);

    [LoggerMessage(EventId = ApiEventIds.QueuedChangedMeanwhile, Level = LogLevel.Debug, Message = "{Count} queued migrations changed while they were placed; placed again next poll")]
    private static partial void LogBatchChangedMeanwhile(ILogger logger, int count);

    [LoggerMessage(EventId = ApiEventIds.MigrationRunStuck, Level = LogLevel.Warning, Message = "Migration {MigrationId}: its run did not stop when asked; deciding without it")]
    private static partial void LogRunStuck(ILogger logger, Guid migrationId);

    [LoggerMessage(EventId = ApiEventIds.DispatcherCrashed, Level = LogLevel.Error, Message = "Dispatcher failed on migration {MigrationId}")]
    private static partial void LogDispatchFailed(ILogger logger, Guid migrationId, Exception exception);
}
