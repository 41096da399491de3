using Ferry.Api.Agents;
using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Contracts;
using Ferry.Domain.Guests;
using Ferry.Domain.Migrations;
using Grpc.Core;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Guests;

/// <summary>Starting and stopping a guest on its host, through the host's agent.</summary>
internal static class GuestPower
{
    public static async Task<Results<Ok<GuestView>, ProblemHttpResult, ValidationProblem>> Change(
        FerryDbContext db, AgentClients agents, string guest, bool start, CancellationToken ct)
    {
        var (id, error) = Identifier.Parse(guest);
        if (id is null)
        {
            return Problems.Invalid("guest", error!);
        }

        if (await db.FindGuestAsync(id.Value, ct) is not { } g)
        {
            return Problems.NotFound($"Guest '{guest}'");
        }

        if (await db.Migrations.AnyActiveForGuestAsync(g.Id, ct))
        {
            return Problems.Conflict($"Guest '{g.Name}' is migrating.");
        }

        var host = await db.Hosts.SingleAsync(h => h.Id == g.HostId, ct);
        if (host.AgentEndpoint is null)
        {
            return Problems.Conflict($"Host '{host.Name}' has no registered agent to run the guest.");
        }

        GuestStatusReply reply;
        try
        {
            reply = start
                ? await agents.Idempotent(host.AgentEndpoint, (c, t) => c.LaunchGuestAsync(new LaunchGuestRequest { Guest = g.ToSpec() },
                    deadline: agents.Deadline(agents.Options.PrepareDeadline), cancellationToken: t).ResponseAsync, ct)
                : await agents.Idempotent(host.AgentEndpoint, (c, t) => c.StopGuestAsync(new StopGuestRequest { Name = g.Name },
                    deadline: agents.Deadline(), cancellationToken: t).ResponseAsync, ct);
        }
        catch (Exception e) when (AgentClients.IsAgentFailure(e))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Agent call failed",
                detail: $"The agent of host '{host.Name}' did not {(start ? "start" : "stop")} the guest: {(e as RpcException)?.Status.Detail ?? e.Message}");
        }

        g.Observe(reply.Exists && reply.RunState is "running" ? GuestState.Running : GuestState.Stopped);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(GuestView.From(g, host.Name, host.Capabilities));
    }
}
