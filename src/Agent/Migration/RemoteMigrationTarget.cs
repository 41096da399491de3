using Ferry.Agent.Grpc;
using Ferry.Agent.Qmp;
using Ferry.Contracts;
using Grpc.Core;

namespace Ferry.Agent.Migration;

/// <summary>The target as the source agent reaches it: the target agent's AgentService, each call with a deadline.</summary>
internal sealed class RemoteMigrationTarget(
    AgentService.AgentServiceClient client,
    string migrationId,
    string guest,
    TimeSpan callTimeout) : IMigrationTarget
{
    public async Task<RunState> QueryStatusAsync(CancellationToken cancellationToken)
    {
        try
        {
            var reply = await client.GetGuestStatusAsync(
                new GuestStatusRequest { Name = guest },
                deadline: CallDeadline.After(callTimeout),
                cancellationToken: cancellationToken);
            return reply.Exists
                ? new RunState { Running = reply.RunState == "running", Status = reply.RunState }
                : new RunState { Running = false, Status = "absent" };
        }
        catch (RpcException ex)
        {
            throw new TargetUnreachableException($"The target agent did not report the guest's state: {ex.Status.StatusCode} {ex.Status.Detail}", ex);
        }
    }

    public async Task<GuestArrival?> DescribeArrivalAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            var reply = await client.DescribeArrivalAsync(
                new DescribeArrivalRequest { MigrationId = migrationId, WaitMs = (int)wait.TotalMilliseconds },
                deadline: CallDeadline.After(callTimeout + wait),
                cancellationToken: cancellationToken);
            return new GuestArrival(FromMicroseconds(reply.RunningAtUs), FromMicroseconds(reply.PortsUpAtUs), reply.Note.Length > 0 ? reply.Note : null);
        }
        catch (RpcException ex)
        {
            // A target agent of an earlier version, or one that is gone: the parts stay unmeasured.
            return new GuestArrival(null, null, $"the target agent did not describe the arrival: {ex.Status.StatusCode} {ex.Status.Detail}");
        }
    }

    private static DateTimeOffset? FromMicroseconds(long microseconds) =>
        microseconds > 0 ? DateTimeOffset.UnixEpoch.AddTicks(microseconds * 10) : null;

    public async Task TearDownAsync(CancellationToken cancellationToken)
    {
        try
        {
            await client.CleanupAsync(
                new CleanupRequest { MigrationId = migrationId, GuestName = guest, Role = CleanupRequest.Types.Role.Target },
                deadline: CallDeadline.After(callTimeout),
                cancellationToken: cancellationToken);
        }
        catch (RpcException ex)
        {
            throw new TargetUnreachableException($"The target agent did not tear the target down: {ex.Status.StatusCode} {ex.Status.Detail}", ex);
        }
    }
}
