using Ferry.Agent.Probe;
using Microsoft.Extensions.Time.Testing;

namespace Ferry.Agent.Tests.Probe;

public sealed class SequenceRecorderTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void An_unbroken_stream_has_no_loss_and_its_longest_gap_is_the_frame_interval()
    {
        var recorder = new SequenceRecorder(_time);

        Arrive(recorder, TimeSpan.FromMilliseconds(1), 0, 1, 2, 3, 4);
        var report = recorder.Report(sent: 5);

        Assert.Equal(5, report.Received);
        Assert.Equal(0, report.Lost);
        Assert.Equal(TimeSpan.FromMilliseconds(1), report.LongestGap);
        Assert.Equal(TimeSpan.FromMilliseconds(4), report.ArrivalSpan);
        Assert.Equal(1000, report.ArrivalRate, precision: 6);
    }

    [Fact]
    public void An_outage_shows_as_the_longest_gap_after_the_last_frame_before_it_and_as_lost_frames()
    {
        var recorder = new SequenceRecorder(_time);

        Arrive(recorder, TimeSpan.FromMilliseconds(1), 0, 1, 2);
        _time.Advance(TimeSpan.FromMilliseconds(25));
        Arrive(recorder, TimeSpan.FromMilliseconds(1), 30, 31);
        var report = recorder.Report();

        Assert.Equal(TimeSpan.FromMilliseconds(25), report.LongestGap);
        Assert.Equal(2UL, report.LastBeforeLongestGap);
        Assert.Equal(32, report.Expected);
        Assert.Equal(27, report.Lost);
    }

    [Fact]
    public void Frames_lost_at_the_end_count_only_when_the_sent_count_is_given()
    {
        var recorder = new SequenceRecorder(_time);

        Arrive(recorder, TimeSpan.FromMilliseconds(1), 0, 1, 2);

        Assert.Equal(0, recorder.Report().Lost);
        Assert.Equal(7, recorder.Report(sent: 10).Lost);
    }

    [Fact]
    public void Duplicates_and_late_frames_are_counted_and_a_late_frame_is_not_lost()
    {
        var recorder = new SequenceRecorder(_time);

        Arrive(recorder, TimeSpan.FromMilliseconds(1), 0, 2, 1, 2, 3);
        var report = recorder.Report();

        Assert.Equal(4, report.Received);
        Assert.Equal(1, report.Duplicates);
        Assert.Equal(1, report.Reordered);
        Assert.Equal(0, report.Lost);
    }

    [Fact]
    public void Sequence_numbers_beyond_the_bitmap_limit_are_foreign_and_change_nothing()
    {
        var recorder = new SequenceRecorder(_time);

        recorder.Record(SequenceRecorder.MaximumSequence);
        recorder.Record(ulong.MaxValue);

        Assert.Equal(2, recorder.Foreign);
        Assert.Equal(0, recorder.Report().Received);
        Assert.Equal(0, recorder.Report().Expected);
    }

    [Fact]
    public void Sequences_far_apart_grow_the_bitmap()
    {
        var recorder = new SequenceRecorder(_time);

        recorder.Record(0);
        recorder.Record(1_000_000);
        recorder.Record(1_000_000);

        var report = recorder.Report();
        Assert.Equal(2, report.Received);
        Assert.Equal(1, report.Duplicates);
        Assert.Equal(999_999, report.Lost);
    }

    [Fact]
    public void Nothing_received_reports_nothing()
    {
        var report = new SequenceRecorder(_time).Report();

        Assert.Equal(0, report.Received);
        Assert.Equal(TimeSpan.Zero, report.LongestGap);
        Assert.Null(report.LastBeforeLongestGap);
        Assert.Equal(0, report.ArrivalRate);
    }

    private void Arrive(SequenceRecorder recorder, TimeSpan interval, params ulong[] sequences)
    {
        for (var i = 0; i < sequences.Length; i++)
        {
            if (i > 0)
            {
                _time.Advance(interval);
            }

            recorder.Record(sequences[i]);
        }
    }
}
