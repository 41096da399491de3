using Ferry.Domain.Migrations;

namespace Ferry.Domain.Tests.Migrations;

public sealed class ProgressSampleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static Migration Running()
    {
        var m = Migration.Request(Guid.NewGuid(), "vnf-1", Guid.NewGuid(), "host-a", null, MigrationPolicy.Default, T0);
        m.Schedule(Guid.NewGuid(), "host-b", T0);
        m.Advance(MigrationState.PreparingTarget, T0);
        m.TargetPrepared("10.0.0.2:4444", T0);
        m.Advance(MigrationState.Running, T0);
        return m;
    }

    [Fact]
    public void Expected_downtime_is_the_remaining_bytes_at_the_measured_throughput()
    {
        // 10 MB at 1000 Mbit/s: 80 Mbit / 1000 Mbit/s = 80 ms.
        var s = ProgressSample.Measured(Guid.NewGuid(), MigrationState.Running, 2, 10_000_000, 5, 100, 1000, T0);
        Assert.Equal(80, s.ExpectedDowntimeMs!.Value, 9);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Without_a_measured_throughput_there_is_no_expected_downtime(double throughputMbps) =>
        Assert.Null(ProgressSample.Measured(Guid.NewGuid(), MigrationState.Running, 1, 10_000_000, 0, 0, throughputMbps, T0).ExpectedDowntimeMs);

    [Fact]
    public void A_migration_keeps_its_latest_sample_until_it_ends()
    {
        var m = Running();
        m.RecordProgress(ProgressSample.Measured(m.Id, m.State, 1, 100, 0, 0, 10, T0));
        var latest = ProgressSample.Measured(m.Id, m.State, 1, 50, 50, 0, 10, T0.AddSeconds(1));
        m.RecordProgress(latest);
        Assert.Equal(latest, m.Progress);

        m.Fail("lost the target", T0.AddSeconds(2));
        Assert.Null(m.Progress);
        m.RecordProgress(latest);
        Assert.Null(m.Progress);
    }

    [Fact]
    public void The_first_sample_of_each_pass_is_a_moment_on_the_timeline()
    {
        var m = Running();
        m.RecordProgress(ProgressSample.Measured(m.Id, m.State, 1, 100, 0, 0, 10, T0));
        m.RecordProgress(ProgressSample.Measured(m.Id, m.State, 1, 50, 50, 0, 10, T0.AddSeconds(1)));
        m.RecordProgress(ProgressSample.Measured(m.Id, m.State, 2, 10, 100, 0, 10, T0.AddSeconds(2)));

        var passes = m.Timeline.Where(e => e.Event == Migration.PassStartedEvent).ToList();
        Assert.Equal(["pass 1", "pass 2"], passes.Select(e => e.Note));
        Assert.Equal([T0, T0.AddSeconds(2)], passes.Select(e => e.At));
        Assert.All(passes, e => Assert.Equal(MigrationState.Running, e.State));
        // A moment is not a phase: the migration is still in the phase it entered.
        Assert.Equal(T0, m.EnteredCurrentStateAt);
    }

    [Fact]
    public void A_migration_that_never_converges_records_a_bounded_number_of_passes()
    {
        var m = Running();
        for (var pass = 1; pass <= Migration.MaxPassMoments + 10; pass++)
        {
            m.RecordProgress(ProgressSample.Measured(m.Id, m.State, pass, 10, 100, 0, 10, T0.AddMilliseconds(pass)));
        }

        Assert.Equal(Migration.MaxPassMoments, m.Timeline.Count(e => e.Event == Migration.PassStartedEvent));
        Assert.Equal(Migration.MaxPassMoments + 10, m.Progress!.Pass);
    }

    [Fact]
    public void A_sample_of_another_migration_is_refused()
    {
        var m = Running();
        Assert.Throws<DomainException>(() => m.RecordProgress(ProgressSample.Measured(Guid.NewGuid(), m.State, 1, 1, 1, 0, 1, T0)));
    }
}
