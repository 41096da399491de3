namespace Ferry.Domain.Migrations;

/// <summary>
/// The legal moves between <see cref="MigrationState"/>s. Before switch-over the source is the
/// truth, so a migration may be cancelled or fail from any phase; once the guest has been paused
/// for switch-over it only moves forward, and a failure there leaves the guest on the target.
/// </summary>
public static class MigrationStateMachine
{
    private static readonly MigrationState[] Forward =
    [
        MigrationState.Queued, MigrationState.Scheduled, MigrationState.PreparingTarget, MigrationState.TargetReady,
        MigrationState.Running, MigrationState.SwitchingOver, MigrationState.CleaningUp, MigrationState.Completed,
    ];

    /// <summary>Whether a migration in <paramref name="state"/> is finished.</summary>
    public static bool IsTerminal(MigrationState state) =>
        state is MigrationState.Completed or MigrationState.Cancelled or MigrationState.Failed;

    /// <summary>Whether the guest has not yet been paused for switch-over (the source is still the truth).</summary>
    public static bool IsBeforeSwitchover(MigrationState state) =>
        state is MigrationState.Queued or MigrationState.Scheduled or MigrationState.PreparingTarget
            or MigrationState.TargetReady or MigrationState.Running;

    /// <summary>Whether agents may be doing work for a migration in <paramref name="state"/>.</summary>
    public static bool InvolvesAgents(MigrationState state) =>
        !IsTerminal(state) && state is not (MigrationState.Queued or MigrationState.Scheduled);

    /// <summary>All states a migration may still be in while it is active.</summary>
    public static IReadOnlyList<MigrationState> ActiveStates { get; } =
        Enum.GetValues<MigrationState>().Where(s => !IsTerminal(s)).ToArray();

    /// <summary>Whether <paramref name="from"/> → <paramref name="to"/> is a legal move.</summary>
    public static bool CanMove(MigrationState from, MigrationState to)
    {
        if (IsTerminal(from))
        {
            return false;
        }

        var i = Array.IndexOf(Forward, from);
        if (i >= 0 && i + 1 < Forward.Length && Forward[i + 1] == to)
        {
            return true;
        }

        return to switch
        {
            MigrationState.Cancelling => IsBeforeSwitchover(from),
            MigrationState.Cancelled => from == MigrationState.Cancelling,
            // A cancel that lost the race: the source had already paused the guest for switch-over.
            MigrationState.SwitchingOver => from == MigrationState.Cancelling,
            // A failure after switch-over is still recorded, with the guest on the target.
            MigrationState.Failed => true,
            _ => false,
        };
    }
}
