using System.Collections.Concurrent;

namespace Ferry.Agent.Migration;

internal sealed class MigrationLedger : IMigrationLedger
{
    /// <summary>
    /// Ended migrations remembered after their result reached the API, by their end alone (a few hundred
    /// bytes each): enough for any retry the API makes of a recent one, bounded for an agent that runs
    /// for years. Past this, the oldest are forgotten.
    /// </summary>
    public const int EndedLimit = 1024;

    private readonly ConcurrentDictionary<string, OutgoingMigration> _outgoing = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _released = new();
    private readonly ConcurrentQueue<string> _tornDownOrder = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<IncomingMigration>>> _incoming = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _tornDown = new(StringComparer.Ordinal);

    public IReadOnlyList<OutgoingMigration> Outgoing => [.. _outgoing.Values];

    public OutgoingMigration? FindOutgoing(string migrationId) => _outgoing.GetValueOrDefault(migrationId);

    public OutgoingMigration? FindActiveOutgoing(string guest) =>
        _outgoing.Values.FirstOrDefault(m => !m.IsOver && string.Equals(m.Guest, guest, StringComparison.Ordinal));

    public bool TryAddOutgoing(OutgoingMigration migration)
    {
        ArgumentNullException.ThrowIfNull(migration);
        return _outgoing.TryAdd(migration.Id, migration);
    }

    public void ReleaseOutgoing(string migrationId)
    {
        if (!_outgoing.TryGetValue(migrationId, out var migration))
        {
            return;
        }

        if (!migration.IsOver)
        {
            // The outbox can deliver the end before the run published it to its readers: release once it has.
            if (!migration.Completion.IsCompleted)
            {
                migration.Completion.ContinueWith(_ => ReleaseOutgoing(migrationId), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            return;
        }

        migration.Compact();
        _released.Enqueue(migrationId);
        while (_released.Count > EndedLimit && _released.TryDequeue(out var oldest))
        {
            if (_outgoing.TryRemove(oldest, out var forgotten))
            {
                forgotten.Dispose();
            }
        }
    }

    public async Task<IncomingMigration> GetOrPrepareIncomingAsync(string migrationId, Func<Task<IncomingMigration>> prepare)
    {
        ArgumentNullException.ThrowIfNull(prepare);
        var entry = _incoming.GetOrAdd(migrationId, _ => new Lazy<Task<IncomingMigration>>(prepare, LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return await entry.Value;
        }
        catch
        {
            _incoming.TryRemove(new KeyValuePair<string, Lazy<Task<IncomingMigration>>>(migrationId, entry));
            throw;
        }
    }

    public async Task<IncomingMigration?> FindIncomingAsync(string migrationId)
    {
        if (!_incoming.TryGetValue(migrationId, out var entry))
        {
            return null;
        }

        try
        {
            return await entry.Value;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The preparation failed and cleaned up after itself: there is no target to speak of.
            return null;
        }
    }

    public void MarkIncomingTornDown(string migrationId)
    {
        if (_tornDown.TryAdd(migrationId, true))
        {
            _tornDownOrder.Enqueue(migrationId);
        }

        _incoming.TryRemove(migrationId, out _);

        // Remembered so a late PrepareIncoming of the same id is refused; the API never retries one for long.
        while (_tornDownOrder.Count > EndedLimit && _tornDownOrder.TryDequeue(out var oldest))
        {
            _tornDown.TryRemove(oldest, out _);
        }
    }

    public bool IsIncomingTornDown(string migrationId) => _tornDown.ContainsKey(migrationId);
}
