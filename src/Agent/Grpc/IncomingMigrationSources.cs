using System.Collections.Concurrent;

namespace Ferry.Agent.Grpc;

/// <summary>
/// Which host is the source of each migration this host is the target of, as the API said when it
/// asked for the target (PrepareIncoming). With mutual TLS, that host's agent — and no other — may
/// ask about the incoming guest and tear the target down. Kept in memory: after an agent restart the
/// source's calls are refused and the API, which tears targets down too, does it.
/// </summary>
internal sealed class IncomingMigrationSources
{
    private const int MaxRemembered = 4096;

    private readonly ConcurrentDictionary<string, (string SourceHost, string Guest, long Order)> _incoming = new(StringComparer.Ordinal);
    private long _order;

    public void Remember(string migrationId, string sourceHost, string guest)
    {
        if (_incoming.Count >= MaxRemembered)
        {
            // Oldest first: a migration that long ago has ended, and its source has no more to ask.
            foreach (var stale in _incoming.OrderBy(e => e.Value.Order).Take(MaxRemembered / 4).Select(e => e.Key).ToList())
            {
                _incoming.TryRemove(stale, out _);
            }
        }

        _incoming[migrationId] = (sourceHost, guest, Interlocked.Increment(ref _order));
    }

    public void Forget(string migrationId) => _incoming.TryRemove(migrationId, out _);

    /// <summary>Whether <paramref name="host"/> is the source of migration <paramref name="migrationId"/> to this host.</summary>
    public bool IsSourceOf(string host, string migrationId) =>
        _incoming.TryGetValue(migrationId, out var entry) && string.Equals(entry.SourceHost, host, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="host"/> is the source of a migration of <paramref name="guest"/> to this host.</summary>
    public bool IsSourceOfGuest(string host, string guest) =>
        _incoming.Values.Any(e => string.Equals(e.SourceHost, host, StringComparison.Ordinal) && string.Equals(e.Guest, guest, StringComparison.Ordinal));
}
