using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Testing;

/// <summary>
/// The test-only hold: reads the hold file at a phase's start and, when it names that phase, waits for
/// the test to change it. Polling a file rather than an RPC keeps it out of the agent's contract, and the
/// file outlives an agent the test killed, so the test can release the hold before the next one starts.
/// </summary>
internal sealed partial class FaultHold(IOptions<FaultHoldOptions> options, TimeProvider timeProvider, ILogger<FaultHold> logger) : IFaultHold
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public async Task AtAsync(string phase, string migrationId)
    {
        if (options.Value.HoldFile is not { Length: > 0 } file || !Names(file, phase))
        {
            return;
        }

        Log.Holding(logger, migrationId, phase, file);
        var started = timeProvider.GetTimestamp();
        try
        {
            await File.WriteAllTextAsync(file + ".held", $"{phase} {migrationId}\n");
            while (Names(file, phase) && timeProvider.GetElapsedTime(started) < options.Value.MaxHold)
            {
                await Task.Delay(Poll, timeProvider);
            }
        }
        catch (IOException ex)
        {
            // A hold that cannot be kept is no hold: the migration goes on.
            Log.HoldFailed(logger, migrationId, ex.Message);
        }

        Log.Released(logger, migrationId, phase, timeProvider.GetElapsedTime(started).TotalMilliseconds);
    }

    private static bool Names(string file, string phase)
    {
        try
        {
            return File.Exists(file) && string.Equals(File.ReadAllText(file).Trim(), phase, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.FaultHolding, Level = LogLevel.Warning, Message = "Migration {MigrationId}: TEST HOLD at {Phase} (Ferry:Testing:HoldFile {File}); waiting until the file changes")]
        public static partial void Holding(ILogger logger, string migrationId, string phase, string file);

        [LoggerMessage(EventId = AgentEventIds.FaultReleased, Level = LogLevel.Warning, Message = "Migration {MigrationId}: test hold released at {Phase} after {Ms} ms")]
        public static partial void Released(ILogger logger, string migrationId, string phase, double ms);

        [LoggerMessage(EventId = AgentEventIds.FaultHoldFailed, Level = LogLevel.Warning, Message = "Migration {MigrationId}: test hold not kept: {Reason}")]
        public static partial void HoldFailed(ILogger logger, string migrationId, string reason);
    }
}
