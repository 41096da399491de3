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
        if (!(await db.LookUpGuestAsync(guest, ct)).TryGet<Ok<GuestView>>(out var g, out var refusal))
        {
            return refusal;
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
                : await StopOnAgent(agents, host.AgentEndpoint, g.Name, ct);
        }
        catch (RpcException e) when (start && e.StatusCode == StatusCode.AlreadyExists)
        {
            // The agent refuses a second QEMU of a guest that runs (one it adopted after a restart, or one
            // started by an earlier call whose answer was lost): the guest runs, and this call started nothing.
            g.Observe(GuestState.Running);
            await db.SaveChangesAsync(ct);
            return Problems.Conflict($"Guest '{g.Name}' already runs on host '{host.Name}'.");
        }
        catch (Exception e) when (AgentClients.IsAgentFailure(e))
        {
            return AgentFailed(host.Name, start ? "start" : "stop", e);
        }

        g.Observe(reply.Exists && reply.RunState is "running" ? GuestState.Running : GuestState.Stopped);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(GuestView.From(g, host.Name, host.Capabilities));
    }

    /// <summary>Stops the guest's QEMU on the host whose agent listens at <paramref name="endpoint"/>; a guest that does not run there is already stopped.</summary>
    public static ValueTask<GuestStatusReply> StopOnAgent(AgentClients agents, string endpoint, string guest, CancellationToken ct) =>
        agents.Idempotent(endpoint, (c, t) => c.StopGuestAsync(new StopGuestRequest { Name = guest },
            deadline: agents.Deadline(), cancellationToken: t).ResponseAsync, ct);

    /// <summary>The problem for an agent call that failed: the gateway's 502, with the agent's own words.</summary>
    public static ProblemHttpResult AgentFailed(string host, string what, Exception e) =>
        TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Agent call failed",
            detail: $"The agent of host '{host}' did not {what} the guest: {(e as RpcException)?.Status.Detail ?? e.Message}");
}
