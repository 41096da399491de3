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

    /// <summary>The host a request's path names by id or name: 400 on <c>host</c> when it is neither, 404 when no host has it.</summary>
    public static Task<Lookup<Host>> LookUpHostAsync(this FerryDbContext db, string host, CancellationToken ct) =>
        Lookup<Host>.ByIdOrNameAsync(host, "host", "Host", db.FindHostAsync, ct);
}
