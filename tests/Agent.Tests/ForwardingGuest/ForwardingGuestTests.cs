using Ferry.Agent.Probe;

namespace Ferry.Agent.Tests.ForwardingGuest;

/// <summary>
/// The forwarding guest built by scripts/forwarding-guest/build.sh, booted under QEMU/TCG with two
/// NICs on taps, forwards sequence-numbered 64-byte frames between them at L2. One guest per
/// forwarding mode; the classes share a collection so their rate figures do not compete for cores.
/// </summary>
public abstract class ForwardingGuestTests(ForwardingGuestFixture fixture)
{
    // The guest's MACs are not on the wire: the guest must forward frames whatever they are addressed to.
    private static readonly ProbeStream Eastbound = new(1, ProbeFrame.EndpointAddress(1), ProbeFrame.EndpointAddress(2));
    private static readonly ProbeStream Westbound = new(2, ProbeFrame.EndpointAddress(2), ProbeFrame.EndpointAddress(1));

    /// <summary>Far below what the guest forwards under TCG, so every frame must come through.</summary>
    private const double GentleRate = 500;

    /// <summary>How long the sinks wait after the last arrival before the missing frames count as lost.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_guest_forwards_the_way_it_was_asked_to()
    {
        var (_, vm) = await fixture.GuestAsync();

        Assert.Contains($"via {fixture.Forwarding}", vm.ReadyMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frames_sent_into_the_first_nic_come_out_of_the_second_and_frames_into_the_second_out_of_the_first()
    {
        var (ns, _) = await fixture.GuestAsync();
        using var first = PacketSocket.Open(ForwardingGuestVm.FirstTap, ns.Name);
        using var second = PacketSocket.Open(ForwardingGuestVm.SecondTap, ns.Name);
        await using var eastSink = FrameSink.Start(second, Eastbound.Id, TimeProvider.System);
        await using var westSink = FrameSink.Start(first, Westbound.Id, TimeProvider.System);
        var east = new FrameGenerator(first, Eastbound, TimeProvider.System);
        var west = new FrameGenerator(second, Westbound, TimeProvider.System);

        var sent = await Task.WhenAll(
            east.RunAsync(GentleRate, 500, TestContext.Current.CancellationToken),
            west.RunAsync(GentleRate, 500, TestContext.Current.CancellationToken));
        await eastSink.WaitForAsync(sent[0], Quiet, TestContext.Current.CancellationToken);
        await westSink.WaitForAsync(sent[1], Quiet, TestContext.Current.CancellationToken);
        var eastReport = eastSink.Report(sent[0]);
        var westReport = westSink.Report(sent[1]);
        TestContext.Current.SendDiagnosticMessage($"eastbound {eastReport}; westbound {westReport}");

        foreach (var report in new[] { eastReport, westReport })
        {
            Assert.True(report is { Received: 500, Lost: 0, Duplicates: 0, Reordered: 0 }, $"not every frame came through once and in order: {report}");
        }
    }

    [Fact]
    public async Task Streams_offered_faster_and_faster_come_through_in_order_and_the_forwarded_rate_and_loss_are_reported()
    {
        var (ns, _) = await fixture.GuestAsync();
        using var first = PacketSocket.Open(ForwardingGuestVm.FirstTap, ns.Name);
        using var second = PacketSocket.Open(ForwardingGuestVm.SecondTap, ns.Name);
        long forwarded = 0;

        // One second per offered rate, the last as fast as this process can send: what the guest
        // forwards under TCG, and what it loses once it cannot keep up. Reported, not asserted.
        foreach (var (rate, index) in new[] { 2_000.0, 5_000, 10_000, 20_000, 50_000, double.PositiveInfinity }.Select((r, i) => (r, i)))
        {
            var stream = new ProbeStream(100 + (uint)index, Eastbound.Source, Eastbound.Destination);
            await using var sink = FrameSink.Start(second, stream.Id, TimeProvider.System);
            var generator = new FrameGenerator(first, stream, TimeProvider.System);
            using var oneSecond = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            oneSecond.CancelAfter(TimeSpan.FromSeconds(1));

            var started = TimeProvider.System.GetTimestamp();
            var sent = await generator.RunAsync(rate, count: null, oneSecond.Token);
            var sending = TimeProvider.System.GetElapsedTime(started);
            await sink.WaitForQuietAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
            var report = sink.Report(sent);
            TestContext.Current.SendDiagnosticMessage(
                $"offered {sent / sending.TotalSeconds,7:F0} frames/s ({sent} in {sending.TotalMilliseconds:F0} ms): " +
                $"forwarded {report.Received} at {report.ArrivalRate,6:F0} frames/s, lost {report.Lost} ({100.0 * report.Lost / Math.Max(1, sent):F1} %), " +
                $"longest gap {report.LongestGap.TotalMilliseconds:F1} ms");

            Assert.Equal(0, report.Duplicates);
            Assert.Equal(0, report.Reordered);
            forwarded += report.Received;
        }

        Assert.True(forwarded > 0, "no frame came through at any rate");
    }
}

/// <summary>The default: an XDP program on each NIC redirects every frame to the other.</summary>
[Collection(nameof(ForwardingGuestTests))]
public sealed class XdpForwardingGuestTests(XdpForwardingGuestFixture fixture) : ForwardingGuestTests(fixture), IClassFixture<XdpForwardingGuestFixture>;

/// <summary>The fallback: a Linux bridge that never learns.</summary>
[Collection(nameof(ForwardingGuestTests))]
public sealed class BridgeForwardingGuestTests(BridgeForwardingGuestFixture fixture) : ForwardingGuestTests(fixture), IClassFixture<BridgeForwardingGuestFixture>;
