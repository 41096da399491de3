using Ferry.Transfer.Migration;
using Microsoft.Extensions.Time.Testing;

namespace Ferry.Transfer.Tests.Migration;

[Trait("Tier", "fast")]
public sealed class ConvergenceControllerTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(10);

    [Fact]
    public void Switches_over_when_the_remaining_pages_fit_the_budget_and_a_pass_no_longer_shrinks_them()
    {
        var clock = new FakeTimeProvider();
        var controller = new ConvergenceController(Budget, TimeSpan.FromSeconds(30), clock);
        controller.RecordPass(100L << 20, TimeSpan.FromMilliseconds(100)); // 1000 MiB/s

        clock.Advance(TimeSpan.FromMilliseconds(100));
        // Fits (5 ms at 1000 MiB/s), but nothing says yet that another pass would not shrink it.
        Assert.Equal(ConvergenceDecision.Continue, controller.Decide(5L << 20));
        clock.Advance(TimeSpan.FromMilliseconds(5));
        Assert.Equal(ConvergenceDecision.SwitchOver, controller.Decide(4L << 20)); // 80 %: not worth another pass
        Assert.Equal(TimeSpan.FromMilliseconds(4), controller.PredictedFinal);
    }

    [Fact]
    public void A_hot_set_that_halves_with_every_pass_is_followed_down_before_switching_over()
    {
        var clock = new FakeTimeProvider();
        var controller = new ConvergenceController(Budget, TimeSpan.FromSeconds(30), clock);
        controller.RecordPass(100L << 20, TimeSpan.FromMilliseconds(100));

        var decisions = new List<ConvergenceDecision>();
        foreach (long pending in new long[] { 4 << 20, 2 << 20, 1 << 20, 512 << 10, 480 << 10 })
        {
            clock.Advance(TimeSpan.FromMilliseconds(2));
            decisions.Add(controller.Decide(pending));
        }

        Assert.Equal([ConvergenceDecision.Continue, ConvergenceDecision.Continue, ConvergenceDecision.Continue, ConvergenceDecision.Continue,
            ConvergenceDecision.SwitchOver], decisions);
    }

    [Fact]
    public void Shrinking_passes_are_bounded()
    {
        var clock = new FakeTimeProvider();
        var controller = new ConvergenceController(Budget, TimeSpan.FromSeconds(30), clock);
        controller.RecordPass(100L << 20, TimeSpan.FromMilliseconds(100));

        int passes = 0;
        for (long pending = 8L << 20; controller.Decide(pending) == ConvergenceDecision.Continue; pending /= 2)
        {
            passes++;
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(12, passes);
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
