using Ferry.Contracts;
using Ferry.ServiceDefaults.Trust;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Grpc;

/// <summary>
/// Who may call this agent, decided before a request reaches the service: the API may call
/// everything; another host's agent only what the source of a migration to this host needs of its
/// target — the incoming guest's status, how it arrived, and the target's cleanup — and only for a migration whose
/// source the API named it. Without cluster TLS (<c>Ferry:Tls:AllowInsecure</c>, tests only) no
/// caller is checked.
/// </summary>
internal sealed partial class AgentCallerInterceptor(IServiceProvider services, IncomingMigrationSources incoming, ILogger<AgentCallerInterceptor> logger)
    : Interceptor
{
    private readonly ClusterTrust? _trust = services.GetService<ClusterTrust>();

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(request, context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(request, context);
        return continuation(request, responseStream, context);
    }

    private void Authorize(object request, ServerCallContext context)
    {
        if (_trust is null)
        {
            return;
        }

        if (_trust.AuthenticateClient(context.GetHttpContext().Connection.ClientCertificate, out var why) is not { } caller)
        {
            Log.Unauthenticated(logger, context.Method, why ?? "");
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"The caller is not part of this cluster: {why}."));
        }

        if (caller.Role == ClusterRole.Api)
        {
            return;
        }

        var allowed = request switch
        {
            GuestStatusRequest status => incoming.IsSourceOfGuest(caller.HostName, status.Name),
            CleanupRequest { Role: CleanupRequest.Types.Role.Target } cleanup => incoming.IsSourceOf(caller.HostName, cleanup.MigrationId),
            DescribeArrivalRequest arrival => incoming.IsSourceOf(caller.HostName, arrival.MigrationId),
            _ => false,
        };
        if (!allowed)
        {
            Log.Refused(logger, context.Method, caller.ToString());
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"{caller} may not call {context.Method} here: an agent may only ask a migration's target about that migration's guest, and only as its source."));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.CallerUnauthenticated, Level = LogLevel.Warning, Message = "{Method} refused: the caller is not part of this cluster ({Why})")]
        public static partial void Unauthenticated(ILogger logger, string method, string why);

        [LoggerMessage(EventId = AgentEventIds.CallerRefused, Level = LogLevel.Warning, Message = "{Method} refused: {Caller} may not call it here")]
        public static partial void Refused(ILogger logger, string method, string caller);
    }
}
