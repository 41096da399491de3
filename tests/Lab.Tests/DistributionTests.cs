namespace Ferry.Lab.Tests;

public sealed class DistributionTests
{
    [Fact]
    public void Median_of_an_odd_count_is_the_middle_value_whatever_the_order()
    {
        var d = Distribution.Of([900.0, 100, 500])!;

        Assert.Equal(500, d.Median);
        Assert.Equal(100, d.Min);
        Assert.Equal(900, d.Max);
        Assert.Equal(3, d.Count);
    }

    [Fact]
    public void Median_of_an_even_count_is_the_mean_of_the_middle_two()
    {
        Assert.Equal(25, Distribution.Of([10.0, 20, 30, 40])!.Median);
    }

    [Fact]
    public void P90_and_quartiles_interpolate_between_closest_ranks()
    {
        var d = Distribution.Of([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])!;

        Assert.Equal(10, d.P90, 9);
        Assert.Equal(3.5, d.Q1, 9);
        Assert.Equal(8.5, d.Q3, 9);
        Assert.Equal(5, d.InterquartileRange, 9);
    }

    [Fact]
    public void One_value_is_its_own_median_spread_and_percentiles()
    {
        var d = Distribution.Of([42.0])!;

        Assert.Equal((42.0, 42.0, 42.0, 42.0, 0.0), (d.Min, d.Max, d.Median, d.P90, d.InterquartileRange));
    }

    [Fact]
    public void Missing_measurements_are_left_out_and_none_at_all_is_no_distribution()
    {
        Assert.Equal(2, Distribution.Of([null, 3.0, null, 5.0])!.Count);
        Assert.Null(Distribution.Of(new double?[] { null, null }));
        Assert.Null(Distribution.Of(Array.Empty<double>()));
    }
}
