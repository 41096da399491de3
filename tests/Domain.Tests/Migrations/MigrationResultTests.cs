using Ferry.Domain.Migrations;

namespace Ferry.Domain.Tests.Migrations;

public sealed class MigrationResultTests
{
    [Theory]
    [InlineData(1999, 9.9, null, true)]
    [InlineData(2000, 5, null, false)]
    [InlineData(400, 10, null, false)]
    [InlineData(400, 3, 12.0, false)]
    [InlineData(400, 30, 4.0, true)]
    public void The_sla_is_met_only_when_total_and_downtime_are_under_their_maxima(
        double totalMs, double downtimeMs, double? networkDowntimeMs, bool met)
    {
        var result = new MigrationResult { TotalTimeMs = totalMs, DowntimeMs = downtimeMs, NetworkDowntimeMs = networkDowntimeMs };
        Assert.Equal(met, result.MeetsSla(MigrationPolicy.Default));
    }

    [Fact]
    public void The_network_figure_is_trusted_over_the_hypervisors_when_measured()
    {
        Assert.Equal(7, new MigrationResult { DowntimeMs = 3, NetworkDowntimeMs = 7 }.EffectiveDowntimeMs);
        Assert.Equal(3, new MigrationResult { DowntimeMs = 3 }.EffectiveDowntimeMs);
    }

    [Fact]
    public void A_looser_policy_changes_the_verdict()
    {
        var result = new MigrationResult { TotalTimeMs = 3000, DowntimeMs = 20 };
        Assert.False(result.MeetsSla(MigrationPolicy.Default));
        Assert.True(result.MeetsSla(MigrationPolicy.Default with { MaxTotalTimeMs = 5000, MaxDowntimeMs = 50 }));
    }
}
