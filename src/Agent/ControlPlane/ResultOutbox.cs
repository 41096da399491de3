using System.Threading.Channels;
using Ferry.Agent.Grpc;
using Ferry.Agent.Migration;
using Ferry.Contracts;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using ControlPlaneClient = Ferry.Contracts.ControlPlane.ControlPlaneClient;

namespace Ferry.Agent.ControlPlane;

/// <summary>
/// One file per undelivered result under the run directory (<c>outbox/&lt;migration id&gt;.result</c>,
/// the protobuf bytes), delivered in order of arrival by one background loop that retries until the
/// API acknowledges. Files left by an earlier run of the agent are delivered first.
/// </summary>
internal sealed partial class ResultOutbox : BackgroundService, IResultOutbox
{
    private const string Extension = ".result";

    private readonly ControlPlaneClient _client;
    private readonly AgentOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ResultOutbox> _logger;
    private readonly ResiliencePipeline _retry;
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    public ResultOutbox(ControlPlaneClient client, IOptions<AgentOptions> options, TimeProvider timeProvider, ILogger<ResultOutbox> logger)
    {
        _client = client;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        _retry = ControlPlaneRetry.Create(_options, timeProvider, logger, "ReportResult");
        Directory.CreateDirectory(_options.ResolveOutboxDirectory());
    }

    public IReadOnlyList<string> Pending =>
        [.. Directory.EnumerateFiles(_options.ResolveOutboxDirectory(), "*" + Extension).Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal)];

    public async Task StoreAsync(MigrationProgress result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        var path = PathOf(result.MigrationId);
        var temporary = path + ".tmp";

        // Written aside, flushed to the disk, then renamed: a crash leaves either the whole result or none.
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await file.WriteAsync(result.ToByteArray(), cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        Log.Stored(_logger, result.MigrationId, result.Phase);
        _queue.Writer.TryWrite(path);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var leftover in Directory.EnumerateFiles(_options.ResolveOutboxDirectory(), "*" + Extension).Order(StringComparer.Ordinal))
        {
            Log.Resending(_logger, leftover);
            _queue.Writer.TryWrite(leftover);
        }

        await foreach (var path in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            await DeliverAsync(path, stoppingToken);
        }
    }

    private async Task DeliverAsync(string path, CancellationToken stoppingToken)
    {
        MigrationProgress result;
        try
        {
            result = MigrationProgress.Parser.ParseFrom(await File.ReadAllBytesAsync(path, stoppingToken));
        }
        catch (FileNotFoundException)
        {
            // Queued twice (stored while the start-up scan ran); the first delivery took it.
            return;
        }
        catch (InvalidProtocolBufferException ex)
        {
            // Kept for an operator rather than deleted: it may be the only record of a migration.
            File.Move(path, path + ".corrupt", overwrite: true);
            Log.Corrupt(_logger, path, ex.Message);
            return;
        }

        try
        {
            var ack = await _retry.ExecuteAsync(
                async ct => await _client.ReportResultAsync(result, deadline: CallDeadline.After(_options.CallTimeout), cancellationToken: ct),
                stoppingToken);
            File.Delete(path);
            Log.Delivered(_logger, result.MigrationId, result.Phase, ack.Known);
        }
        catch (RpcException ex)
        {
            // Refused for a reason a retry cannot fix: kept on disk and tried again when the agent restarts.
            Log.Refused(_logger, result.MigrationId, ex.Status.StatusCode, ex.Status.Detail);
        }
    }

    private string PathOf(string migrationId) => Path.Combine(_options.ResolveOutboxDirectory(), MigrationId.Validate(migrationId) + Extension);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3540, Level = LogLevel.Information, Message = "Result of migration {MigrationId} ({Phase}) stored in the outbox")]
        public static partial void Stored(ILogger logger, string migrationId, MigrationPhase phase);

        [LoggerMessage(EventId = 3541, Level = LogLevel.Information, Message = "Result of migration {MigrationId} ({Phase}) delivered to the API (known: {Known})")]
        public static partial void Delivered(ILogger logger, string migrationId, MigrationPhase phase, bool known);

        [LoggerMessage(EventId = 3542, Level = LogLevel.Information, Message = "Re-sending {Path}, left by an earlier run")]
        public static partial void Resending(ILogger logger, string path);

        [LoggerMessage(EventId = 3543, Level = LogLevel.Error, Message = "Outbox file {Path} is not a result ({Reason}); set aside as .corrupt")]
        public static partial void Corrupt(ILogger logger, string path, string reason);

        [LoggerMessage(EventId = 3544, Level = LogLevel.Error, Message = "The API refused the result of migration {MigrationId}: {Code} {Detail}; kept for the next start")]
        public static partial void Refused(ILogger logger, string migrationId, StatusCode code, string detail);
    }
}
