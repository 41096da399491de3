using Ferry.Api.Agents;
using Ferry.Api.Hosts;
using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Api.Security;
using Ferry.Domain;
using Ferry.Domain.Guests;
using Ferry.Domain.Migrations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Guests;

internal static class GuestsApi
{
    public static RouteGroupBuilder MapGuestsApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/guests").WithTags("Guests").RequireScopes(Scopes.Admin).AddNextPageLinks();
        api.MapGet("/", List).WithSummary("List guests, optionally by host or state.");
        // Success and 400 come from each handler's result types; a problem's status is its value's, so those are listed here.
        api.MapGet("/{guest}", Get).WithSummary("Get a guest by id or name.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/", Define).WithSummary("Define a guest on a host.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/{guest}", Delete).WithSummary("Delete a guest that is not migrating.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapPost("/{guest}/start", Start).WithSummary("Start the guest on its host (through the host's agent).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapPost("/{guest}/stop", Stop).WithSummary("Stop the guest on its host (through the host's agent).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        return api;
    }

    private static async Task<Results<Ok<Page<GuestView>>, ValidationProblem, ProblemHttpResult>> List(FerryDbContext db,
        [AsParameters] GuestListQuery query, CancellationToken ct)
    {
        if (query.Check(out var size, out var state, out var host) is { } problem)
        {
            return problem;
        }

        var guests = from g in db.Guests.AsNoTracking()
                     join h in db.Hosts on g.HostId equals h.Id
                     select new { Guest = g, HostName = h.Name, h.Capabilities };
        if (host is { } on)
        {
            guests = on.Id is { } hostId ? guests.Where(x => x.Guest.HostId == hostId) : guests.Where(x => x.HostName == on.Name);
        }

        if (state is { } s)
        {
            guests = guests.Where(x => x.Guest.State == s);
        }

        if (query.pageToken is { } after)
        {
            guests = guests.Where(x => string.Compare(x.Guest.Name, after) > 0);
        }

        var rows = await guests.OrderBy(x => x.Guest.Name).Take(size + 1).ToListAsync(ct);
        var next = rows.Count > size ? rows[size - 1].Guest.Name : null;
        return TypedResults.Ok(new Page<GuestView>(rows.Take(size).Select(x => GuestView.From(x.Guest, x.HostName, x.Capabilities)).ToList(), next));
    }

    private static async Task<Results<Ok<GuestView>, ProblemHttpResult, ValidationProblem>> Get(FerryDbContext db, string guest, CancellationToken ct)
    {
        if (!(await db.LookUpGuestAsync(guest, ct)).TryGet<Ok<GuestView>>(out var g, out var refusal))
        {
            return refusal;
        }

        var host = await db.Hosts.Where(h => h.Id == g.HostId).Select(h => new { h.Name, h.Capabilities }).SingleAsync(ct);
        return TypedResults.Ok(GuestView.From(g, host.Name, host.Capabilities));
    }

    private static async Task<Results<Created<GuestView>, ValidationProblem, ProblemHttpResult>> Define(
        FerryDbContext db, DefineGuestRequest request, CancellationToken ct)
    {
        var errors = new Dictionary<string, string>();
        if (Names.Explain(request.Name) is { } nameProblem)
        {
            errors["name"] = nameProblem;
        }

        if (request.MemoryMiB is not (>= 1 and <= Guest.MaxMemoryMiB))
        {
            errors["memoryMiB"] = $"must be 1..{Guest.MaxMemoryMiB}";
        }

        if (request.Vcpus is not (>= 1 and <= Guest.MaxVcpus))
        {
            errors["vcpus"] = $"must be 1..{Guest.MaxVcpus}";
        }

        if (request.HugepageSizeKiB is { } size && size is not (2048 or 1048576))
        {
            errors["hugepageSizeKiB"] = "must be 2048 or 1048576, or absent";
        }

        var ports = request.VhostUserPorts ?? [];
        if (ports.FirstOrDefault(p => !Names.IsValid(p)) is { } badPort)
        {
            errors["vhostUserPorts"] = $"'{badPort}' {Names.Explain(badPort)}";
        }
        else if (ports.FirstOrDefault(p => p.Length > Guest.MaxPortNameLength) is { } longPort)
        {
            // OVS port names become interface names: the kernel's IFNAMSIZ.
            errors["vhostUserPorts"] = $"'{longPort}' must be at most {Guest.MaxPortNameLength} characters (an OVS interface name)";
        }
        else if (ports.Count > 16 || ports.Distinct(StringComparer.Ordinal).Count() != ports.Count)
        {
            errors["vhostUserPorts"] = "must be at most 16 distinct names";
        }

        var (hostId, hostError) = Identifier.Parse(request.Host);
        if (hostError is not null)
        {
            errors["host"] = hostError;
        }

        if (Guest.ExplainCorrelationId(request.VnfInstanceId) is { } vnfProblem)
        {
            errors["vnfInstanceId"] = vnfProblem;
        }

        if (Guest.ExplainCorrelationId(request.VnfcInstanceId) is { } vnfcProblem)
        {
            errors["vnfcInstanceId"] = vnfcProblem;
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        if (await db.FindHostAsync(hostId!.Value, ct) is not { } host)
        {
            return Problems.NotFound($"Host '{request.Host}'");
        }

        // A port name names a socket on whichever host the guest runs: unique across guests, so that a
        // migration never finds the guest's ports taken on its target.
        var portsArray = ports.ToArray();
        var holder = await db.Guests.FromSql($"SELECT * FROM guests WHERE vhost_user_ports && {portsArray}").Select(g => g.Name).FirstOrDefaultAsync(ct);
        if (holder is not null)
        {
            return Problems.Conflict($"Guest '{holder}' already has one of the vhost-user ports {string.Join(", ", ports)}.");
        }

        var guest = Guest.Define(request.Name!, request.MemoryMiB!.Value, request.Vcpus!.Value, host.Id, request.HugepageSizeKiB, ports,
            request.Profile ?? GuestProfile.Idle, request.VnfInstanceId, request.VnfcInstanceId);
        db.Guests.Add(guest);
        if (!await db.TrySaveUniqueAsync(ct))
        {
            return Problems.Conflict($"A guest named '{request.Name}' already exists, or host '{request.Host}' was deleted.");
        }

        return TypedResults.Created($"/api/v1/guests/{guest.Id}", GuestView.From(guest, host.Name, host.Capabilities));
    }

    private static Task<Results<Ok<GuestView>, ProblemHttpResult, ValidationProblem>> Start(FerryDbContext db, AgentClients agents, string guest, CancellationToken ct) =>
        GuestPower.Change(db, agents, guest, start: true, ct);

    private static Task<Results<Ok<GuestView>, ProblemHttpResult, ValidationProblem>> Stop(FerryDbContext db, AgentClients agents, string guest, CancellationToken ct) =>
        GuestPower.Change(db, agents, guest, start: false, ct);

    private static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> Delete(FerryDbContext db, AgentClients agents, string guest, CancellationToken ct)
    {
        if (!(await db.LookUpGuestAsync(guest, ct)).TryGet<NoContent>(out var g, out var refusal))
        {
            return refusal;
        }

        if (await db.Migrations.AnyActiveForGuestAsync(g.Id, ct))
        {
            return Problems.Conflict($"Guest '{g.Name}' is migrating; cancel the migration first.");
        }

        // The guest's QEMU stops before its record goes: a QEMU left running with no record would hold its
        // memory, its name and its ports with nothing in Ferry to stop it (an agent adopts what it finds).
        // An agent that cannot be reached keeps the record, so the delete can be asked again.
        var host = await db.Hosts.SingleAsync(h => h.Id == g.HostId, ct);
        if (host.AgentEndpoint is not null)
        {
            try
            {
                await GuestPower.StopOnAgent(agents, host.AgentEndpoint, g.Name, ct);
            }
            catch (Exception e) when (AgentClients.IsAgentFailure(e))
            {
                return GuestPower.AgentFailed(host.Name, "stop", e);
            }
        }

        db.Guests.Remove(g);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}
