using Microsoft.Extensions.Options;

namespace Ferry.Api.Testing;

/// <summary>The test-only queue hold (<see cref="QueueHoldOptions"/>): answers false at once when not configured.</summary>
public sealed partial class QueueHold(IOptions<QueueHoldOptions> options, ILogger<QueueHold> logger)
{
    /// <summary>Whether <paramref name="migrationId"/> must stay queued now; says so in the marker file and the log.</summary>
    public async Task<bool> HoldsAsync(Guid migrationId, CancellationToken ct)
    {
        if (options.Value.HoldFile is not { Length: > 0 } file)
        {
            return false;
        }

        try
        {
            if (!File.Exists(file) || !string.Equals((await File.ReadAllTextAsync(file, ct)).Trim(), "queued", StringComparison.Ordinal))
            {
                return false;
            }

            await File.WriteAllTextAsync(file + ".held", $"queued {migrationId}\n", ct);
        }
        catch (IOException)
        {
            return false;
        }

        LogHolding(logger, migrationId, file);
        return true;
    }

    [LoggerMessage(EventId = ApiEventIds.QueueHolding, Level = LogLevel.Warning, Message = "Migration {MigrationId}: TEST HOLD, kept queued while {File} says so (Ferry:Testing:HoldFile)")]
    private static partial void LogHolding(ILogger logger, Guid migrationId, string file);
}
