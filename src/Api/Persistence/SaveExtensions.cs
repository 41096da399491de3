using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Ferry.Api.Persistence;

internal static class SaveExtensions
{
    /// <summary>
    /// Saves, returning false instead of throwing when PostgreSQL refuses the change for a unique
    /// or foreign-key constraint: the race between two requests that the database settled.
    /// The context's pending changes are discarded in that case.
    /// </summary>
    public static async Task<bool> TrySaveUniqueAsync(this FerryDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.ForeignKeyViolation })
        {
            db.ChangeTracker.Clear();
            return false;
        }
    }
}
