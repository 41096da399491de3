using Ferry.Agent.Probe;
using Microsoft.Extensions.Time.Testing;

namespace Ferry.Agent.Tests.Probe;

[Trait("Tier", "fast")]
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

    [Fact]
    public void The_window_gap_is_the_gap_across_the_switch_over_even_when_a_longer_one_came_before()
    {
        var recorder = new SequenceRecorder(_time);

        // A 40 ms stall long before the migration, then the switch-over's 12 ms outage.
        Arrive(recorder, TimeSpan.FromMilliseconds(1), 0, 1);
        _time.Advance(TimeSpan.FromMilliseconds(40));
        Arrive(recorder, TimeSpan.FromMilliseconds(1), 2, 3, 4);
        _time.Advance(TimeSpan.FromMilliseconds(4));
        recorder.OpenWindow(_time.GetTimestamp());
        _time.Advance(TimeSpan.FromMilliseconds(6));
        recorder.CloseWindow(_time.GetTimestamp());
        _time.Advance(TimeSpan.FromMilliseconds(2));
        Arrive(recorder, TimeSpan.FromMilliseconds(1), 17, 18);
        var report = recorder.Report(sent: 19);

        Assert.Equal(TimeSpan.FromMilliseconds(40), report.LongestGap);
        Assert.Equal(TimeSpan.FromMilliseconds(12), report.WindowGap);
        Assert.Equal(12, report.WindowGapLost);
        Assert.Equal(2, report.ArrivalsAfterWindow);
    }

    [Fact]
    public void Gaps_that_end_before_the_window_opens_or_start_after_it_closed_are_not_the_window_gap()
    {
        var recorder = new SequenceRecorder(_time);

        Arrive(recorder, TimeSpan.FromMilliseconds(1), 0, 1);
        _time.Advance(TimeSpan.FromMilliseconds(30));
        Arrive(recorder, TimeSpan.FromMilliseconds(1), 2, 3);
        recorder.OpenWindow(_time.GetTimestamp() + 1);
        _time.Advance(TimeSpan.FromMilliseconds(2));
        Arrive(recorder, TimeSpan.FromMilliseconds(1), 4);
        recorder.CloseWindow(_time.GetTimestamp());
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Arrive(recorder, TimeSpan.FromMilliseconds(1), 5);
        _time.Advance(TimeSpan.FromMilliseconds(50));
        Arrive(recorder, TimeSpan.FromMilliseconds(1), 6);
        var report = recorder.Report();

        Assert.Equal(TimeSpan.FromMilliseconds(50), report.LongestGap);
        Assert.Equal(TimeSpan.FromMilliseconds(2), report.WindowGap);
        Assert.Equal(0, report.WindowGapLost);
    }

    [Fact]
    public void A_stream_that_never_comes_back_after_the_window_has_no_arrivals_after_it()
    {
        var recorder = new SequenceRecorder(_time);

        Arrive(recorder, TimeSpan.FromMilliseconds(1), 0, 1, 2);
        recorder.OpenWindow(_time.GetTimestamp());
        _time.Advance(TimeSpan.FromMilliseconds(5));
        recorder.CloseWindow(_time.GetTimestamp());
        var report = recorder.Report(sent: 100);

        Assert.Null(report.WindowGap);
        Assert.Equal(0, report.ArrivalsAfterWindow);
        Assert.Equal(97, report.Lost);
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
