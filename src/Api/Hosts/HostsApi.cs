using System.Net;
using System.Net.Sockets;
using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Api.Security;
using Ferry.Domain;
using Ferry.Domain.Hosts;
using Host = Ferry.Domain.Hosts.Host;
using Ferry.Domain.Migrations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Hosts;

internal static class HostsApi
{
    public static RouteGroupBuilder MapHostsApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/hosts").WithTags("Hosts").RequireScopes(Scopes.Admin).AddNextPageLinks();
        api.MapGet("/", List).WithSummary("List hosts, optionally by state.");
        // Success and 400 come from each handler's result types; a problem's status is its value's, so those are listed here.
        api.MapGet("/{host}", Get).WithSummary("Get a host by id or name.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/", Create).WithSummary("Declare a host (administrators; agents register over gRPC).")
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{host}/drain", Drain).WithSummary("Stop placing guests on a host.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{host}/undrain", Undrain).WithSummary("Take a drained host back into placement.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{host}", Delete).WithSummary("Delete a host that has no guests and no active migration.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    private static async Task<Results<Ok<Page<HostView>>, ValidationProblem>> List(FerryDbContext db,
        [AsParameters] HostListQuery query, CancellationToken ct)
    {
        if (query.Check(out var size, out var state) is { } problem)
        {
            return problem;
        }

        var hosts = db.Hosts.AsNoTracking();
        if (state is { } s)
        {
            hosts = hosts.Where(h => h.State == s);
        }

        if (query.pageToken is { } after)
        {
            hosts = hosts.Where(h => string.Compare(h.Name, after) > 0);
        }

        var rows = await hosts.OrderBy(h => h.Name).Take(size + 1).ToListAsync(ct);
        var next = rows.Count > size ? rows[size - 1].Name : null;
        return TypedResults.Ok(new Page<HostView>(rows.Take(size).Select(HostView.From).ToList(), next));
    }

    private static async Task<Results<Ok<HostView>, ProblemHttpResult, ValidationProblem>> Get(
        FerryDbContext db, string host, CancellationToken ct) =>
        (await db.LookUpHostAsync(host, ct)).TryGet<Ok<HostView>>(out var h, out var refusal) ? TypedResults.Ok(HostView.From(h)) : refusal;

    private static async Task<Results<Created<HostView>, ValidationProblem, ProblemHttpResult>> Create(
        FerryDbContext db, CreateHostRequest request, CancellationToken ct)
    {
        var errors = new Dictionary<string, string>();
        if (Names.Explain(request.Name) is { } nameProblem)
        {
            errors["name"] = nameProblem;
        }

        if (MigrationAddressProblem(request.MigrationAddress) is { } addressProblem)
        {
            errors["migrationAddress"] = addressProblem;
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        if (await db.Hosts.AnyAsync(h => h.Name == request.Name, ct))
        {
            return Problems.Conflict($"A host named '{request.Name}' already exists.");
        }

        var host = Host.Create(request.Name!, request.MigrationAddress!, request.Capabilities);
        db.Hosts.Add(host);
        if (!await db.TrySaveUniqueAsync(ct))
        {
            return Problems.Conflict($"A host named '{request.Name}' already exists.");
        }

        return TypedResults.Created($"/api/v1/hosts/{host.Id}", HostView.From(host));
    }

    private static Task<Results<Ok<HostView>, ProblemHttpResult, ValidationProblem>> Drain(FerryDbContext db, string host, CancellationToken ct) =>
        Change(db, host, h => h.Drain(), ct);

    private static Task<Results<Ok<HostView>, ProblemHttpResult, ValidationProblem>> Undrain(FerryDbContext db, string host, CancellationToken ct) =>
        Change(db, host, h => h.Undrain(), ct);

    private static async Task<Results<Ok<HostView>, ProblemHttpResult, ValidationProblem>> Change(
        FerryDbContext db, string host, Action<Host> change, CancellationToken ct)
    {
        if (!(await db.LookUpHostAsync(host, ct)).TryGet<Ok<HostView>>(out var h, out var refusal))
        {
            return refusal;
        }

        change(h);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(HostView.From(h));
    }

    private static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> Delete(FerryDbContext db, string host, CancellationToken ct)
    {
        if (!(await db.LookUpHostAsync(host, ct)).TryGet<NoContent>(out var h, out var refusal))
        {
            return refusal;
        }

        var guests = await db.Guests.CountAsync(g => g.HostId == h.Id, ct);
        if (guests > 0)
        {
            return Problems.Conflict($"Host '{h.Name}' still has {guests} guest(s); move or delete them first.");
        }

        if (await db.Migrations.AnyActiveForHostAsync(h.Id, ct))
        {
            return Problems.Conflict($"Host '{h.Name}' takes part in an active migration.");
        }

        db.Hosts.Remove(h);
        // The guests foreign key is RESTRICT: a guest defined meanwhile makes this fail rather than orphan it.
        if (!await db.TrySaveUniqueAsync(ct))
        {
            return Problems.Conflict($"Host '{h.Name}' changed while it was being deleted; try again.");
        }

        return TypedResults.NoContent();
    }

    private static string? MigrationAddressProblem(string? address)
    {
        if (string.IsNullOrEmpty(address))
        {
            return "is required";
        }

        if (IPAddress.TryParse(address, out var ip))
        {
            return ip.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 ? null : "is not an IP address";
        }

        return Uri.CheckHostName(address) == UriHostNameType.Dns && address.Length <= 253 ? null : "must be an IP address or a DNS name";
    }
}
