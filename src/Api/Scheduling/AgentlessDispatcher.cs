using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Scheduling;

/// <summary>
/// The dispatcher of a control plane with no agent transport: it cannot move anything, so it
/// fails each scheduled migration at once with that reason instead of leaving it to time out.
/// </summary>
internal sealed class AgentlessDispatcher(IServiceScopeFactory scopes, TimeProvider time) : IMigrationDispatcher
{
    public async Task RunAsync(Guid migrationId, CancellationToken stopping)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
        var migration = await db.Migrations.SingleAsync(m => m.Id == migrationId, stopping);
        if (migration.IsTerminal)
        {
            return;
        }

        migration.Fail("no agent transport is configured on this control plane, so no host agent can carry the migration out", time.Now());
        if (await db.Guests.FirstOrDefaultAsync(g => g.Id == migration.GuestId, stopping) is { } guest)
        {
            guest.EndMigration(migration.SourceHostId);
        }

        await db.SaveChangesAsync(stopping);
    }

    public Task AbortAsync(Guid migrationId, CancellationToken cancellationToken) => Task.CompletedTask;
}
