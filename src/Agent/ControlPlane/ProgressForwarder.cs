using System.Threading.Channels;
using Ferry.Agent.Grpc;
using Ferry.Contracts;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ControlPlaneClient = Ferry.Contracts.ControlPlane.ControlPlaneClient;

namespace Ferry.Agent.ControlPlane;

/// <summary>
/// Progress samples go out one at a time from a small queue that drops the oldest when the API is
/// slow: the migration never waits for the API, and the API applies samples by sequence anyway.
/// </summary>
internal sealed partial class ProgressForwarder(
    ControlPlaneClient client,
    IOptions<AgentOptions> options,
    ILogger<ProgressForwarder> logger) : BackgroundService, IProgressForwarder
{
    private readonly Channel<MigrationProgress> _queue = Channel.CreateBounded<MigrationProgress>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    public void Forward(MigrationProgress progress) => _queue.Writer.TryWrite(progress);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var progress in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await client.ReportProgressAsync(progress, deadline: CallDeadline.After(options.Value.CallTimeout), cancellationToken: stoppingToken);
            }
            catch (RpcException ex)
            {
                Log.Dropped(logger, progress.MigrationId, progress.Sequence, ex.Status.StatusCode);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.ProgressDropped, Level = LogLevel.Debug, Message = "Progress {Sequence} of migration {MigrationId} not delivered ({Code}); dropped")]
        public static partial void Dropped(ILogger logger, string migrationId, long sequence, StatusCode code);
    }
}
