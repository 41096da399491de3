using Ferry.Transfer.Migration;
using Microsoft.Extensions.Time.Testing;

namespace Ferry.Transfer.Tests.Migration;

public sealed class ConvergenceControllerTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(10);

    [Fact]
    public void Switches_over_when_the_remaining_pages_fit_the_budget()
    {
        var clock = new FakeTimeProvider();
        var controller = new ConvergenceController(Budget, TimeSpan.FromSeconds(30), clock);
        controller.RecordPass(100L << 20, TimeSpan.FromMilliseconds(100)); // 1000 MiB/s

        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(ConvergenceDecision.SwitchOver, controller.Decide(5L << 20)); // 5 ms at 1000 MiB/s
        Assert.Equal(TimeSpan.FromMilliseconds(5), controller.PredictedFinal);
    }

    [Fact]
    public void Keeps_passing_while_the_prediction_exceeds_the_budget()
    {
        var clock = new FakeTimeProvider();
        var controller = new ConvergenceController(Budget, TimeSpan.FromSeconds(30), clock);
        controller.RecordPass(100L << 20, TimeSpan.FromMilliseconds(100));

        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(ConvergenceDecision.Continue, controller.Decide(50L << 20));
        Assert.Equal(500.0 * 1048576, controller.DirtyRate, 1);
    }

    [Fact]
    public void Nothing_dirty_switches_over_even_before_bandwidth_is_known()
    {
        var controller = new ConvergenceController(Budget, TimeSpan.FromSeconds(30), new FakeTimeProvider());

        Assert.Equal(ConvergenceDecision.SwitchOver, controller.Decide(0));
    }

    [Fact]
    public void Gives_up_at_the_completion_timeout_with_a_reason()
    {
        var clock = new FakeTimeProvider();
        var controller = new ConvergenceController(Budget, TimeSpan.FromSeconds(2), clock);
        controller.RecordPass(1L << 20, TimeSpan.FromSeconds(1));

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ConvergenceDecision.Continue, controller.Decide(8L << 20));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ConvergenceDecision.GiveUp, controller.Decide(8L << 20));
        Assert.Contains("did not converge within 2 s", controller.GiveUpReason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tiny_pass_does_not_drag_the_measured_bandwidth_down()
    {
        var controller = new ConvergenceController(Budget, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        controller.RecordPass(100L << 20, TimeSpan.FromMilliseconds(100));

        controller.RecordPass(4096, TimeSpan.FromMilliseconds(1)); // one page and a round trip

        Assert.Equal(1000.0 * 1048576, controller.Bandwidth, 1);
    }
}
