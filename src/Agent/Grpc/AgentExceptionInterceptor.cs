using Ferry.Agent.Ovs;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Grpc;

/// <summary>
/// Maps the agent's expected failures to gRPC status codes so callers can branch on them: a bad
/// request is InvalidArgument, a refusal says its own code (<see cref="RequestRefusedException"/>), a
/// QEMU that would not start is FailedPrecondition, a QEMU that stopped answering is Unavailable. Anything else stays Unknown, and is logged as the bug it is.
/// </summary>
internal sealed partial class AgentExceptionInterceptor(ILogger<AgentExceptionInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (Map(ex, context.Method) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (Map(ex, context.Method) is { } mapped)
        {
            throw mapped;
        }
    }

    private RpcException? Map(Exception ex, string method)
    {
        var status = ex switch
        {
            ArgumentException => new Status(StatusCode.InvalidArgument, ex.Message),
            RequestRefusedException { Refusal: Refusal.NotFound } => new Status(StatusCode.NotFound, ex.Message),
            RequestRefusedException { Refusal: Refusal.Unavailable } => new Status(StatusCode.Unavailable, ex.Message),
            RequestRefusedException { Refusal: Refusal.AlreadyExists } => new Status(StatusCode.AlreadyExists, ex.Message),
            RequestRefusedException => new Status(StatusCode.FailedPrecondition, ex.Message),
            QemuLaunchException => new Status(StatusCode.FailedPrecondition, ex.Message),
            OvsCommandException => new Status(StatusCode.FailedPrecondition, $"OVS-DPDK: {ex.Message}"),
            QmpException => new Status(StatusCode.Unavailable, $"QEMU did not answer: {ex.Message}"),
            _ => (Status?)null,
        };
        if (status is not { } s)
        {
            return null;
        }

        Log.Refused(logger, method, s.StatusCode, s.Detail);
        return new RpcException(s);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.CallRefused, Level = LogLevel.Warning, Message = "{Method} refused: {Code} {Detail}")]
        public static partial void Refused(ILogger logger, string method, StatusCode code, string detail);
    }
}
