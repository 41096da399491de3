using System.Threading.Channels;
using Ferry.Agent.Grpc;
using Ferry.Agent.Migration;
using Ferry.Contracts;
using Ferry.Transfer.Interop;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Polly;
using ControlPlaneClient = Ferry.Contracts.ControlPlane.ControlPlaneClient;

namespace Ferry.Agent.ControlPlane;

/// <summary>
/// One file per undelivered result under the agent's state directory on persistent storage
/// (<c>outbox/&lt;migration id&gt;.result</c>, the protobuf bytes), delivered in order of arrival by one
/// background loop that retries until the API acknowledges. Files left by an earlier run of the agent
/// (also in the run directory, where older agents kept them) are delivered first. A result the API
/// refuses for a reason no retry fixes (invalid, unknown to it) is parked under <c>outbox/parked/</c>
/// with the reason beside it, for an operator: it neither blocks the results behind it nor comes back.
/// </summary>
internal sealed partial class ResultOutbox(
    ControlPlaneClient client, IMigrationLedger ledger, IOptions<AgentOptions> options, TimeProvider timeProvider, ILogger<ResultOutbox> logger)
    : BackgroundService, IResultOutbox
{
    private const string Extension = ".result";
    private const string ReasonExtension = ".reason";

    private readonly AgentOptions _options = options.Value;
    private readonly ResiliencePipeline _retry = ControlPlaneRetry.Create(options.Value, timeProvider, logger, "ReportResult", retry: IsWorthRetrying);
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    // Made with the outbox: Parked lists it from the start.
    private readonly string _parkedDirectory = Directory.CreateDirectory(Path.Combine(options.Value.ResolveOutboxDirectory(), "parked")).FullName;

    public IReadOnlyList<string> Pending => IdsIn(_options.ResolveOutboxDirectory());

    public IReadOnlyList<string> Parked => IdsIn(_parkedDirectory);

    public async Task StoreAsync(MigrationProgress result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        var path = PathOf(result.MigrationId);
        var temporary = path + ".tmp";

        // Written aside, flushed to the disk, renamed, then the directory flushed: a crash leaves either the
        // whole result or none, and the rename itself survives a power cut.
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await file.WriteAsync(result.ToByteArray(), cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        DirectorySync.Flush(Path.GetDirectoryName(path)!);
        Log.Stored(logger, result.MigrationId, result.Phase);
        _queue.Writer.TryWrite(path);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        AdoptLegacyOutbox();
        foreach (var leftover in Directory.EnumerateFiles(_options.ResolveOutboxDirectory(), "*" + Extension).Order(StringComparer.Ordinal))
        {
            Log.Resending(logger, leftover);
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
            Log.Corrupt(logger, path, ex.Message);
            return;
        }

        try
        {
            var ack = await _retry.ExecuteAsync(
                async ct => await client.ReportResultAsync(result, deadline: CallDeadline.After(_options.CallTimeout), cancellationToken: ct),
                stoppingToken);
            File.Delete(path);
            Log.Delivered(logger, result.MigrationId, result.Phase, ack.Known);

            // What the agent kept of the migration for its readers has done its job.
            ledger.ReleaseOutgoing(result.MigrationId);
        }
        catch (RpcException ex)
        {
            // Refused for a reason a retry cannot fix: set aside with the reason, so it neither blocks the
            // results behind it nor comes back at every start; an operator reads both files.
            Park(path, $"{timeProvider.GetUtcNow():O} the API refused the result of migration {result.MigrationId} ({result.Phase}): {ex.Status.StatusCode} {ex.Status.Detail}");
            Log.Refused(logger, result.MigrationId, ex.Status.StatusCode, ex.Status.Detail, _parkedDirectory);
            ledger.ReleaseOutgoing(result.MigrationId);
        }
    }

    /// <summary>
    /// Retried: the API is down, slow or restarting, or it does not take this agent's credentials yet
    /// (a certificate being rolled out): every later result would meet the same refusal, so waiting is
    /// right. Anything else says the result itself is wrong.
    /// </summary>
    private static bool IsWorthRetrying(RpcException ex) =>
        CallDeadline.IsTransient(ex) || ex.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied;

    private void Park(string path, string reason)
    {
        try
        {
            MoveToParked(path, reason);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left where it is: delivered again at the next start, which is the lesser harm than losing it.
            Log.ParkingFailed(logger, path, ex.Message);
        }
    }

    private void MoveToParked(string path, string reason)
    {
        var parked = Path.Combine(_parkedDirectory, Path.GetFileName(path));
        File.WriteAllText(Path.ChangeExtension(parked, ReasonExtension), reason + Environment.NewLine);
        File.Move(path, parked, overwrite: true);
        DirectorySync.Flush(_parkedDirectory);
        DirectorySync.Flush(_options.ResolveOutboxDirectory());
    }

    /// <summary>
    /// Agents before the outbox moved to persistent storage kept it in the run directory; what one of them
    /// left there (still there when /run survived, as across an agent restart) moves over once, durably.
    /// </summary>
    private void AdoptLegacyOutbox()
    {
        try
        {
            MoveLegacyOutbox();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.LegacyOutboxUnreadable(logger, _options.ResolveLegacyOutboxDirectory(), ex.Message);
        }
    }

    private void MoveLegacyOutbox()
    {
        var legacy = _options.ResolveLegacyOutboxDirectory();
        if (!Directory.Exists(legacy) || string.Equals(Path.GetFullPath(legacy), Path.GetFullPath(_options.ResolveOutboxDirectory()), StringComparison.Ordinal))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(legacy, "*" + Extension))
        {
            var moved = Path.Combine(_options.ResolveOutboxDirectory(), Path.GetFileName(file));
            File.Copy(file, moved + ".tmp", overwrite: true);
            using (var copy = new FileStream(moved + ".tmp", FileMode.Open, FileAccess.ReadWrite))
            {
                copy.Flush(flushToDisk: true);
            }

            File.Move(moved + ".tmp", moved, overwrite: true);
            DirectorySync.Flush(_options.ResolveOutboxDirectory());
            File.Delete(file);
            Log.Adopted(logger, file, moved);
        }
    }

    private static IReadOnlyList<string> IdsIn(string directory) =>
        [.. Directory.EnumerateFiles(directory, "*" + Extension).Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal)];

    private string PathOf(string migrationId) => Path.Combine(_options.ResolveOutboxDirectory(), MigrationId.Validate(migrationId) + Extension);

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.OutboxStored, Level = LogLevel.Information, Message = "Result of migration {MigrationId} ({Phase}) stored in the outbox")]
        public static partial void Stored(ILogger logger, string migrationId, MigrationPhase phase);

        [LoggerMessage(EventId = AgentEventIds.OutboxDelivered, Level = LogLevel.Information, Message = "Result of migration {MigrationId} ({Phase}) delivered to the API (known: {Known})")]
        public static partial void Delivered(ILogger logger, string migrationId, MigrationPhase phase, bool known);

        [LoggerMessage(EventId = AgentEventIds.OutboxResending, Level = LogLevel.Information, Message = "Re-sending {Path}, left by an earlier run")]
        public static partial void Resending(ILogger logger, string path);

        [LoggerMessage(EventId = AgentEventIds.OutboxCorrupt, Level = LogLevel.Error, Message = "Outbox file {Path} is not a result ({Reason}); set aside as .corrupt")]
        public static partial void Corrupt(ILogger logger, string path, string reason);

        [LoggerMessage(EventId = AgentEventIds.OutboxRefused, Level = LogLevel.Error, Message = "The API refused the result of migration {MigrationId}: {Code} {Detail}; parked with the reason in {Directory}, the results behind it go on")]
        public static partial void Refused(ILogger logger, string migrationId, StatusCode code, string detail, string directory);

        [LoggerMessage(EventId = AgentEventIds.OutboxAdopted, Level = LogLevel.Warning, Message = "Result {Path}, left in the run directory by an older agent, moved to the persistent outbox as {Moved}")]
        public static partial void Adopted(ILogger logger, string path, string moved);

        [LoggerMessage(EventId = AgentEventIds.OutboxParkingFailed, Level = LogLevel.Error, Message = "Refused result {Path} could not be parked ({Reason}); it stays in the outbox until the next start")]
        public static partial void ParkingFailed(ILogger logger, string path, string reason);

        [LoggerMessage(EventId = AgentEventIds.LegacyOutboxUnreadable, Level = LogLevel.Error, Message = "Results an older agent left in {Directory} could not be moved to the persistent outbox: {Reason}")]
        public static partial void LegacyOutboxUnreadable(ILogger logger, string directory, string reason);
    }
}
