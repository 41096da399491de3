using Ferry.Domain.Convergence;

namespace Ferry.Domain.Tests.Convergence;

public sealed class ConvergenceEstimateTests
{
    private const double TenGbit = 1.25e9;
    private static readonly TimeSpan TenMs = TimeSpan.FromMilliseconds(10);

    [Fact]
    public void An_idle_guest_switches_over_after_the_first_pass()
    {
        // 1 GiB over 10 Gbit/s with nothing dirtied: the second pass is empty.
        var e = ConvergenceEstimate.Estimate(TenGbit, 0, 1L << 30, TenMs);
        Assert.True(e.Converges);
        Assert.Equal(2, e.Passes);
        Assert.Equal(0, e.FinalBytes);
        Assert.Equal(TimeSpan.Zero, e.PredictedDowntime);
        Assert.Equal((1L << 30) / TenGbit, e.PredictedTotalTime.TotalSeconds, 3);
    }

    [Fact]
    public void What_already_fits_the_budget_is_sent_in_one_stop_and_copy()
    {
        var e = ConvergenceEstimate.Estimate(TenGbit, 1e9, 1_000_000, TenMs);
        Assert.True(e.Converges);
        Assert.Equal(1, e.Passes);
        Assert.Equal(1_000_000 / TenGbit, e.PredictedDowntime.TotalSeconds, 6);
    }

    [Fact]
    public void A_moderate_dirty_rate_converges_in_a_geometric_number_of_passes()
    {
        // Each pass shrinks by dirty/bandwidth = 0.1: 1 GiB -> 107 MB -> 10.7 MB (fits 12.5 MB).
        var e = ConvergenceEstimate.Estimate(TenGbit, 0.1 * TenGbit, 1L << 30, TenMs);
        Assert.True(e.Converges);
        Assert.Equal(3, e.Passes);
        Assert.InRange(e.FinalBytes, 10_000_000, 12_500_000);
        Assert.True(e.PredictedDowntime <= TenMs);
    }

    [Fact]
    public void A_guest_dirtying_faster_than_the_link_never_converges()
    {
        var e = ConvergenceEstimate.Estimate(1e6, 2e6, 64L << 20, TenMs);
        Assert.False(e.Converges);
        Assert.Contains("dirty rate", e.Reason);
        Assert.Equal(TimeSpan.MaxValue, e.PredictedTotalTime);
    }

    [Fact]
    public void A_small_working_set_bounds_each_pass()
    {
        // Dirties fast, but only ever the same 4 MB: that fits 10 ms at 10 Gbit/s.
        var e = ConvergenceEstimate.Estimate(TenGbit, 5 * TenGbit, 1L << 30, TenMs, workingSetBytes: 4_000_000);
        Assert.True(e.Converges);
        Assert.Equal(2, e.Passes);
        Assert.Equal(4_000_000, e.FinalBytes);
    }

    [Fact]
    public void Slow_shrinkage_gives_up_after_the_pass_limit()
    {
        var e = ConvergenceEstimate.Estimate(TenGbit, 0.99 * TenGbit, 8L << 30, TimeSpan.FromMilliseconds(1), maxPasses: 5);
        Assert.False(e.Converges);
        Assert.Equal(5, e.Passes);
        Assert.Contains("after 5 passes", e.Reason);
    }

    [Fact]
    public void Without_measured_bandwidth_nothing_is_predicted()
    {
        var e = ConvergenceEstimate.Estimate(0, 0, 1, TenMs);
        Assert.False(e.Converges);
        Assert.Equal("no bandwidth measured", e.Reason);
    }
}
