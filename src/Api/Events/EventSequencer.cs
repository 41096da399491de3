using System.Threading.Channels;
using Ferry.Api.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ferry.Api.Events;

/// <summary>
/// Gives committed event-log rows their positions (<see cref="MigrationEvent.Position"/>), which the streams send as
/// ids and resume after. Why a sequencer: a sequence value taken at insert becomes visible at commit, so transaction A
/// can take 7, B take 8 and commit first; a stream would send 8, resume after it and never see 7. Only committed rows
/// are positioned here, one pass at a time across every replica (a transaction-scoped advisory lock), and a pass
/// commits before the next one reads, so a position is never given below one a stream may already have seen.
/// Before, every writer held that lock from its insert to its commit, and the whole cluster's state changes queued
/// on it (docs/benchmarks.md); here the lock is held by one statement inside PostgreSQL, never across a round trip
/// to a client, and a pass positions every row committed since the last one.
/// </summary>
internal sealed partial class EventSequencer(
    IServiceScopeFactory scopes, EventSignal streams, IOptions<EventOptions> options, TimeProvider time, ILogger<EventSequencer> logger)
    : BackgroundService
{
    /// <summary>Channel the sequencer notifies after a pass that positioned rows; the streams of every replica wake on it.</summary>
    public const string PublishedChannel = "ferry_migration_events_published";

    /// <summary>Advisory lock key of a pass ("FERRYE" in ASCII; the scheduler's capacity lock is "FERRY").</summary>
    private const long PassLockKey = 0x464552525945;

    /// <summary>Rows positioned per pass; a full pass is followed by another at once.</summary>
    private const int Batch = 2000;

    // SKIP LOCKED: a row locked by a writer is one it is deleting (an ended migration's progress); waiting for that
    // writer's commit would hold the pass's lock across the writer's round trips (seen in the benchmark's samples).
    // Should that writer roll back, its row is positioned by a later pass.
    private static readonly string PassSql = $"""
        WITH unpositioned AS (
            SELECT id FROM migration_events WHERE position IS NULL ORDER BY id LIMIT {Batch} FOR UPDATE SKIP LOCKED),
        pending AS (
            SELECT id, row_number() OVER (ORDER BY id) AS n FROM unpositioned),
        head AS (
            UPDATE migration_event_head SET position = position + (SELECT count(*) FROM pending)
            WHERE EXISTS (SELECT 1 FROM pending)
            RETURNING position - (SELECT count(*) FROM pending) AS base),
        positioned AS (
            UPDATE migration_events e SET position = head.base + pending.n FROM pending, head WHERE e.id = pending.id RETURNING 1)
        SELECT count(*)::int FROM positioned
        """;

    /// <summary>Wakes pending at most once: commits while a pass runs are all covered by the next.</summary>
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>A writer committed events (its notification, or a reconnection that may have missed some): run a pass.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    int positioned;
                    do
                    {
                        positioned = await PassAsync(stoppingToken);
                        if (positioned > 0)
                        {
                            streams.Pulse();
                        }
                    }
                    while (positioned == Batch);
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
                {
                    // The database is away (restarted, unreachable): the next wake or poll tries again.
                    LogPassFailed(logger, e.Message);
                }

                // Commits notify; the poll is the safety net for a notification lost while the listener reconnected.
                using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var woken = _wake.Reader.WaitToReadAsync(poll.Token).AsTask();
                await Task.WhenAny(woken, Task.Delay(options.Value.SequencePollInterval, time, poll.Token));
                await poll.CancelAsync();
                _wake.Reader.TryRead(out _);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>One pass: the lock, then the positions, in one implicit transaction (one round trip); then the streams' notification.</summary>
    private async Task<int> PassAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            // A batch without a transaction runs as one implicit transaction: the lock is held from its first
            // statement to the commit at the batch's end, inside PostgreSQL. The second statement's snapshot is
            // taken after the lock was granted, so it sees every position the previous pass committed.
            await using var batch = new NpgsqlBatch(connection)
            {
                BatchCommands = { new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({PassLockKey})"), new NpgsqlBatchCommand(PassSql) },
            };
            int positioned;
            await using (var reader = await batch.ExecuteReaderAsync(ct))
            {
                await reader.NextResultAsync(ct);
                await reader.ReadAsync(ct);
                positioned = reader.GetInt32(0);
            }

            if (positioned > 0)
            {
                await using var notify = new NpgsqlCommand($"SELECT pg_notify('{PublishedChannel}', '')", connection);
                await notify.ExecuteNonQueryAsync(ct);
            }

            return positioned;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    [LoggerMessage(EventId = ApiEventIds.EventSequencerPassFailed, Level = LogLevel.Warning, Message = "Positioning the event log failed ({Reason}); trying again at the next commit or poll")]
    private static partial void LogPassFailed(ILogger logger, string reason);
}
