using Ferry.Domain.Migrations;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Persistence;

internal static class MigrationQueries
{
    private static readonly List<MigrationState> Active = [.. MigrationStateMachine.ActiveStates];

    /// <summary>Whether the guest has a migration that has not ended.</summary>
    public static Task<bool> AnyActiveForGuestAsync(this IQueryable<Migration> migrations, Guid guestId, CancellationToken ct) =>
        migrations.AnyAsync(m => m.GuestId == guestId && Active.Contains(m.State), ct);

    /// <summary>Whether the host is the source or target of a migration that has not ended.</summary>
    public static Task<bool> AnyActiveForHostAsync(this IQueryable<Migration> migrations, Guid hostId, CancellationToken ct) =>
        migrations.AnyAsync(m => (m.SourceHostId == hostId || m.TargetHostId == hostId) && Active.Contains(m.State), ct);
}
