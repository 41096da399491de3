using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Contracts;
using Ferry.Domain;
using Ferry.Domain.Guests;
using Ferry.Domain.Hosts;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using DomainHost = Ferry.Domain.Hosts.Host;

namespace Ferry.Api.Agents;

/// <summary>The API's side of the agent protocol: registration, heartbeats and migration reports.</summary>
internal sealed partial class ControlPlaneService(
    FerryDbContext db, MigrationReports reports, HeartbeatWriter heartbeats, AgentCallers callers, TimeProvider time, IOptions<AgentClientOptions> options, ILogger<ControlPlaneService> logger)
    : ControlPlane.ControlPlaneBase
{
    public override async Task<RegisterReply> Register(RegisterRequest request, ServerCallContext context)
    {
        // Checked before anything else: a refused caller learns nothing about what it sent.
        callers.RequireHost(context, request.HostName, "register");
        if (Names.Explain(request.HostName) is { } problem)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"host_name {problem}"));
        }

        if (!Uri.TryCreate(request.AgentEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "agent_endpoint must be an http(s) URL"));
        }

        if (callers.Authenticate(context) is not null && endpoint.Scheme != "https")
        {
            // With cluster TLS every call to an agent is authenticated: a plain endpoint could not be called.
            throw new RpcException(new Status(StatusCode.InvalidArgument, "agent_endpoint must be an https URL: this API speaks to agents over mutual TLS only"));
        }

        if (string.IsNullOrWhiteSpace(request.MigrationAddress) || !System.Net.IPAddress.TryParse(request.MigrationAddress, out _))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "migration_address must be an IP address"));
        }

        var capabilities = (request.Inventory ?? new HostInventory()).ToCapabilities();
        var now = time.Now();
        var host = await db.Hosts.FirstOrDefaultAsync(h => h.Name == request.HostName, context.CancellationToken);
        if (host is null)
        {
            host = DomainHost.Create(request.HostName, request.MigrationAddress, capabilities);
            db.Hosts.Add(host);
        }

        host.Register(request.MigrationAddress, request.AgentEndpoint, capabilities, now);
        await ReconcileGuestsAsync(host, request.Guests, context.CancellationToken);
        if (!await db.TrySaveUniqueAsync(context.CancellationToken))
        {
            throw new RpcException(new Status(StatusCode.Aborted, "another agent registered the same host name at the same time; retry"));
        }

        LogRegistered(logger, host.Name, request.AgentEndpoint, request.MigrationAddress);
        return new RegisterReply { HostId = host.Id.ToString(), HeartbeatIntervalSeconds = (int)options.Value.HeartbeatInterval.TotalSeconds };
    }

    /// <summary>
    /// A registering agent says which guests it runs: a guest the API believes running on this host
    /// that the agent does not run is stopped (its agent restarted, or the host rebooted). Guests in a
    /// migration are left to the migration's own flow.
    /// </summary>
    private async Task ReconcileGuestsAsync(DomainHost host, IEnumerable<GuestStatus> reported, CancellationToken ct)
    {
        var running = reported.Where(g => g.RunState == "running").Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
        var believed = await db.Guests.Where(g => g.HostId == host.Id && g.State == GuestState.Running).ToListAsync(ct);
        foreach (var guest in believed.Where(g => !running.Contains(g.Name)))
        {
            guest.Observe(GuestState.Stopped);
            LogGuestNotRunning(logger, guest.Name, host.Name);
        }
    }

    public override async Task<HeartbeatReply> Heartbeat(HeartbeatRequest request, ServerCallContext context)
    {
        callers.RequireHost(context, request.HostName, "heartbeat");
        var now = time.Now();
        // Written with the other heartbeats that arrive meanwhile, in one statement (HeartbeatWriter).
        var known = await heartbeats.RecordAsync(request.HostName, now, request.Inventory?.ToCapabilities(), context.CancellationToken);
        if (!known)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"host '{request.HostName}' is not registered; register first"));
        }

        return new HeartbeatReply();
    }

    public override async Task<ReportAck> ReportProgress(MigrationProgress request, ServerCallContext context) =>
        new() { Known = await RequireSourceAsync(request, context) && await reports.ApplyAsync(db, request, context.CancellationToken) };

    public override async Task<ReportAck> ReportResult(MigrationProgress request, ServerCallContext context)
    {
        var known = await RequireSourceAsync(request, context) && await reports.ApplyAsync(db, request, context.CancellationToken);
        LogResultReported(logger, request.MigrationId, request.Phase.ToString(), known);
        return new ReportAck { Known = known };
    }

    /// <summary>
    /// Only the migration's source reports on it (the target reports nothing: the source confirms the
    /// guest runs there). False for a migration the API does not know; a refusal for any other caller.
    /// </summary>
    private async Task<bool> RequireSourceAsync(MigrationProgress report, ServerCallContext context)
    {
        if (callers.Authenticate(context) is not { } caller)
        {
            return true;
        }

        if (!Guid.TryParse(report.MigrationId, out var id))
        {
            return false;
        }

        var source = await db.Migrations.AsNoTracking().Where(m => m.Id == id).Select(m => m.SourceHostName).FirstOrDefaultAsync(context.CancellationToken);
        if (source is null)
        {
            return false;
        }

        if (!caller.IsHost(source))
        {
            LogReportRefused(logger, report.MigrationId, caller.ToString(), source);
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{caller} is not the source of migration {report.MigrationId}"));
        }

        return true;
    }

    [LoggerMessage(EventId = ApiEventIds.ReportRefused, Level = LogLevel.Warning, Message = "Report on migration {MigrationId} refused: it came from {Caller}, its source is host {Source}")]
    private static partial void LogReportRefused(ILogger logger, string migrationId, string caller, string source);

    [LoggerMessage(EventId = ApiEventIds.AgentRegistered, Level = LogLevel.Information, Message = "Agent of host {Host} registered at {Endpoint}, migration address {Address}")]
    private static partial void LogRegistered(ILogger logger, string host, string endpoint, string address);

    [LoggerMessage(EventId = ApiEventIds.ReportedGuestNotRunning, Level = LogLevel.Warning, Message = "Guest {Guest} does not run on host {Host} any more (its agent registered without it); marked stopped")]
    private static partial void LogGuestNotRunning(ILogger logger, string guest, string host);

    [LoggerMessage(EventId = ApiEventIds.ResultReported, Level = LogLevel.Information, Message = "Result of migration {MigrationId} reported by an agent: {Phase} (known: {Known})")]
    private static partial void LogResultReported(ILogger logger, string migrationId, string phase, bool known);
}
