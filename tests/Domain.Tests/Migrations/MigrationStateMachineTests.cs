using Ferry.Domain.Migrations;

namespace Ferry.Domain.Tests.Migrations;

public sealed class MigrationStateMachineTests
{
    public static TheoryData<MigrationState, MigrationState> ForwardMoves => new()
    {
        { MigrationState.Queued, MigrationState.Scheduled },
        { MigrationState.Scheduled, MigrationState.PreparingTarget },
        { MigrationState.PreparingTarget, MigrationState.TargetReady },
        { MigrationState.TargetReady, MigrationState.Running },
        { MigrationState.Running, MigrationState.SwitchingOver },
        { MigrationState.SwitchingOver, MigrationState.CleaningUp },
        { MigrationState.CleaningUp, MigrationState.Completed },
    };

    [Theory]
    [MemberData(nameof(ForwardMoves))]
    public void The_flow_moves_forward_one_phase_at_a_time(MigrationState from, MigrationState to) =>
        Assert.True(MigrationStateMachine.CanMove(from, to));

    [Fact]
    public void No_phase_can_be_skipped_or_revisited()
    {
        var forward = ForwardMoves.Select(row => ((MigrationState)row.Data.Item1, (MigrationState)row.Data.Item2)).ToHashSet();
        foreach (var from in Enum.GetValues<MigrationState>())
        {
            foreach (var to in Enum.GetValues<MigrationState>())
            {
                if (forward.Contains((from, to)) || to is MigrationState.Failed or MigrationState.Cancelling or MigrationState.Cancelled
                    || (from, to) == (MigrationState.Cancelling, MigrationState.SwitchingOver))
                {
                    continue;
                }

                Assert.False(MigrationStateMachine.CanMove(from, to), $"{from} -> {to} must be illegal");
            }
        }
    }

    [Theory]
    [InlineData(MigrationState.Queued, true)]
    [InlineData(MigrationState.Scheduled, true)]
    [InlineData(MigrationState.PreparingTarget, true)]
    [InlineData(MigrationState.TargetReady, true)]
    [InlineData(MigrationState.Running, true)]
    [InlineData(MigrationState.SwitchingOver, false)]
    [InlineData(MigrationState.CleaningUp, false)]
    [InlineData(MigrationState.Cancelling, false)]
    [InlineData(MigrationState.Completed, false)]
    public void Cancelling_is_possible_only_before_switchover(MigrationState from, bool legal) =>
        Assert.Equal(legal, MigrationStateMachine.CanMove(from, MigrationState.Cancelling));

    [Theory]
    [InlineData(MigrationState.Completed)]
    [InlineData(MigrationState.Cancelled)]
    [InlineData(MigrationState.Failed)]
    public void Terminal_states_never_move(MigrationState terminal)
    {
        foreach (var to in Enum.GetValues<MigrationState>())
        {
            Assert.False(MigrationStateMachine.CanMove(terminal, to));
        }
    }

    [Fact]
    public void A_cancel_that_lost_the_race_to_switchover_moves_forward()
    {
        Assert.True(MigrationStateMachine.CanMove(MigrationState.Cancelling, MigrationState.SwitchingOver));
        Assert.False(MigrationStateMachine.CanMove(MigrationState.Cancelling, MigrationState.Running));
    }

    [Fact]
    public void Only_a_cancelling_migration_becomes_cancelled()
    {
        var from = Enum.GetValues<MigrationState>().Where(s => MigrationStateMachine.CanMove(s, MigrationState.Cancelled));
        Assert.Equal([MigrationState.Cancelling], from);
    }

    [Fact]
    public void Failure_is_recorded_from_every_active_phase()
    {
        foreach (var state in MigrationStateMachine.ActiveStates)
        {
            Assert.True(MigrationStateMachine.CanMove(state, MigrationState.Failed), state.ToString());
        }
    }
}
