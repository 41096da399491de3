using Ferry.Api.Http;
using Ferry.Domain.Migrations;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Migrations;

internal static class MigrationLookup
{
    /// <summary>The error on <c>id</c> for a path that holds no migration id.</summary>
    public const string NotAnId = "is not a migration id";

    /// <summary>The migration a request's path names by id: 400 on <c>id</c> when it is not an id, 404 when no migration has it.</summary>
    public static Task<Lookup<Migration>> LookUpAsync(this IQueryable<Migration> migrations, string id, CancellationToken ct) =>
        Lookup<Migration>.ByIdAsync(id, "id", NotAnId, "Migration", (guid, c) => migrations.FirstOrDefaultAsync(m => m.Id == guid, c), ct);
}
