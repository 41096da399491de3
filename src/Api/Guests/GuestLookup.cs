using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Domain.Guests;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Guests;

internal static class GuestLookup
{
    public static Task<Guest?> FindGuestAsync(this FerryDbContext db, Identifier id, CancellationToken ct) =>
        id.Id is { } guid ? db.Guests.FirstOrDefaultAsync(g => g.Id == guid, ct) : db.Guests.FirstOrDefaultAsync(g => g.Name == id.Name, ct);
}
