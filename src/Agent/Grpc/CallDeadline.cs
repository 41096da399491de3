using Grpc.Core;

namespace Ferry.Agent.Grpc;

/// <summary>Every gRPC call the agent makes carries a deadline; a peer that hangs must not hang the agent.</summary>
internal static class CallDeadline
{
    public static DateTime After(TimeProvider timeProvider, TimeSpan timeout) => timeProvider.GetUtcNow().UtcDateTime + timeout;

    /// <summary>Failures worth another attempt: the peer is down, slow or restarting.</summary>
    public static bool IsTransient(RpcException ex) => ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded
        or StatusCode.Internal or StatusCode.Unknown or StatusCode.ResourceExhausted or StatusCode.Aborted or StatusCode.Cancelled;
}
