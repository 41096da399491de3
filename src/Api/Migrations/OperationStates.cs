using Ferry.Domain.Migrations;

namespace Ferry.Api.Migrations;

/// <summary>
/// A migration's phase in the words of ETSI GS NFV-SOL 003's <c>LcmOperationStateType</c>, for NFVOs
/// that track every lifecycle operation by it. Ferry's own <see cref="MigrationState"/> stays the detail.
/// </summary>
public static class OperationStates
{
    public const string Starting = "STARTING";
    public const string Processing = "PROCESSING";
    public const string Completed = "COMPLETED";
    public const string Failed = "FAILED";
    public const string RollingBack = "ROLLING_BACK";
    public const string RolledBack = "ROLLED_BACK";

    /// <summary>Every value, for validating a subscription's filter.</summary>
    public static readonly IReadOnlyList<string> All = [Starting, Processing, Completed, Failed, RollingBack, RolledBack];

    /// <summary>
    /// The operation state of <paramref name="state"/>. A cancel in progress is SOL 003's ROLLING_BACK: the
    /// source keeps the guest while the target is torn down, which is what a rollback is; a cancelled
    /// migration is ROLLED_BACK.
    /// </summary>
    public static string Of(MigrationState state) => state switch
    {
        MigrationState.Queued or MigrationState.Scheduled or MigrationState.PreparingTarget or MigrationState.TargetReady => Starting,
        MigrationState.Running or MigrationState.SwitchingOver or MigrationState.CleaningUp => Processing,
        MigrationState.Completed => Completed,
        MigrationState.Failed => Failed,
        MigrationState.Cancelling => RollingBack,
        MigrationState.Cancelled => RolledBack,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "unknown migration state"),
    };
}
