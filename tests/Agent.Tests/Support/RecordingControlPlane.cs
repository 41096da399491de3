using Ferry.Contracts;
using Grpc.Core;

namespace Ferry.Agent.Tests.Support;

/// <summary>The API's ControlPlane as the agent sees it: answers everything and records it.</summary>
internal sealed class RecordingControlPlane(ControlPlaneCalls calls) : Ferry.Contracts.ControlPlane.ControlPlaneBase
{
    public override Task<RegisterReply> Register(RegisterRequest request, ServerCallContext context)
    {
        calls.Registrations.Enqueue(request);
        return Task.FromResult(new RegisterReply { HostId = "host-" + request.HostName });
    }

    public override Task<HeartbeatReply> Heartbeat(HeartbeatRequest request, ServerCallContext context)
    {
        calls.Heartbeats.Enqueue(request);
        return Task.FromResult(new HeartbeatReply());
    }

    public override Task<ReportAck> ReportProgress(MigrationProgress request, ServerCallContext context)
    {
        calls.Progress.Enqueue(request);
        return Task.FromResult(new ReportAck { Known = true });
    }

    public override Task<ReportAck> ReportResult(MigrationProgress request, ServerCallContext context)
    {
        if (calls.RefusedResults.TryGetValue(request.MigrationId, out var reason))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, reason));
        }

        calls.Results.Enqueue(request);
        return Task.FromResult(new ReportAck { Known = true });
    }
}
