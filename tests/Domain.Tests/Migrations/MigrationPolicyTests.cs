using Ferry.Domain.Migrations;

namespace Ferry.Domain.Tests.Migrations;

public sealed class MigrationPolicyTests
{
    [Fact]
    public void Defaults_are_the_origin_requirement()
    {
        var p = MigrationPolicy.Default;
        Assert.Equal(10, p.MaxDowntimeMs);
        Assert.Equal(2000, p.MaxTotalTimeMs);
        Assert.Equal(TransportKind.Auto, p.Transport);
        Assert.False(p.AllowAutoConverge);
        Assert.Null(p.BandwidthMbps);
        Assert.Equal(1, p.ParallelStreams);
        Assert.Empty(p.Validate());
    }

    [Fact]
    public void Completion_timeout_scales_with_guest_size_but_never_below_one_gib()
    {
        var p = MigrationPolicy.Default with { CompletionTimeoutSecondsPerGiB = 20 };
        Assert.Equal(TimeSpan.FromSeconds(20), p.CompletionTimeout(256));
        Assert.Equal(TimeSpan.FromSeconds(80), p.CompletionTimeout(4096));
    }

    [Fact]
    public void Every_out_of_range_field_is_reported_by_its_api_name()
    {
        var p = new MigrationPolicy
        {
            MaxDowntimeMs = 0, MaxTotalTimeMs = double.NaN, Transport = (TransportKind)9, BandwidthMbps = 0,
            ParallelStreams = 65, CompletionTimeoutSecondsPerGiB = 0, ProgressTimeoutSeconds = -1, Priority = 101, ProbeRatePps = 0,
        };
        Assert.Equal(
            ["bandwidthMbps", "completionTimeoutSecondsPerGiB", "maxDowntimeMs", "maxTotalTimeMs", "parallelStreams", "priority", "probeRatePps", "progressTimeoutSeconds", "transport"],
            p.Validate().Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(1, true)]
    [InlineData(MigrationPolicy.MaxProbeRatePps, true)]
    [InlineData(0, false)]
    [InlineData(-5, false)]
    [InlineData(MigrationPolicy.MaxProbeRatePps + 1, false)]
    public void A_probe_rate_is_absent_or_a_positive_frame_rate_within_the_limit(int? rate, bool valid)
    {
        var errors = (MigrationPolicy.Default with { ProbeRatePps = rate }).Validate();

        Assert.Equal(valid, !errors.ContainsKey("probeRatePps"));
        Assert.Equal(valid, errors.Count == 0);
    }
}
