using Grpc.Core;

namespace Ferry.Agent.Grpc;

/// <summary>Every gRPC call the agent makes carries a deadline; a peer that hangs must not hang the agent.</summary>
internal static class CallDeadline
{
    /// <summary>
    /// A deadline <paramref name="timeout"/> from now on the system clock: gRPC measures deadlines
    /// against it, whatever clock the caller's logic runs on (a test's fake clock set to a fixed
    /// date would make every deadline already past once real time moves beyond that date).
    /// </summary>
    public static DateTime After(TimeSpan timeout) => DateTime.UtcNow + timeout;

    /// <summary>Failures worth another attempt: the peer is down, slow or restarting.</summary>
    public static bool IsTransient(RpcException ex) => ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded
        or StatusCode.Internal or StatusCode.Unknown or StatusCode.ResourceExhausted or StatusCode.Aborted or StatusCode.Cancelled;
}
