using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Domain.Hosts;
using Host = Ferry.Domain.Hosts.Host;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Hosts;

internal static class HostLookup
{
    public static Task<Host?> FindAsync(this IQueryable<Host> hosts, Identifier id, CancellationToken ct) =>
        id.Id is { } guid ? hosts.FirstOrDefaultAsync(h => h.Id == guid, ct) : hosts.FirstOrDefaultAsync(h => h.Name == id.Name, ct);

    public static Task<Host?> FindHostAsync(this FerryDbContext db, Identifier id, CancellationToken ct) => HostLookup.FindAsync(db.Hosts, id, ct);
}
