using System.Collections.Concurrent;

namespace Ferry.Agent.Migration;

internal sealed class MigrationLedger : IMigrationLedger
{
    private readonly ConcurrentDictionary<string, OutgoingMigration> _outgoing = new(StringComparer.Ordinal);
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
        _tornDown[migrationId] = true;
        _incoming.TryRemove(migrationId, out _);
    }

    public bool IsIncomingTornDown(string migrationId) => _tornDown.ContainsKey(migrationId);
}
