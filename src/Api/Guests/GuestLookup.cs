using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Domain.Guests;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Guests;

internal static class GuestLookup
{
    public static Task<Guest?> FindGuestAsync(this FerryDbContext db, Identifier id, CancellationToken ct) =>
        id.Id is { } guid ? db.Guests.FirstOrDefaultAsync(g => g.Id == guid, ct) : db.Guests.FirstOrDefaultAsync(g => g.Name == id.Name, ct);

    /// <summary>The guest a request's path names by id or name: 400 on <c>guest</c> when it is neither, 404 when no guest has it.</summary>
    public static Task<Lookup<Guest>> LookUpGuestAsync(this FerryDbContext db, string guest, CancellationToken ct) =>
        Lookup<Guest>.ByIdOrNameAsync(guest, "guest", "Guest", db.FindGuestAsync, ct);
}
