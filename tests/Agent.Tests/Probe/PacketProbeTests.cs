using Ferry.Agent.Probe;

namespace Ferry.Agent.Tests.Probe;

/// <summary>Generator and sink over a real veth pair in a namespace of their own.</summary>
public sealed class PacketProbeTests
{
    private static readonly ProbeStream Forward = new(1, ProbeFrame.EndpointAddress(1), ProbeFrame.EndpointAddress(2));
    private static readonly ProbeStream Backward = new(2, ProbeFrame.EndpointAddress(2), ProbeFrame.EndpointAddress(1));

    [Fact]
    public async Task Every_frame_sent_into_one_end_of_a_veth_arrives_at_the_other_in_order()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        await ns.AddVethPairAsync("pa", "pb");
        using var into = PacketSocket.Open("pa", ns.Name);
        using var outOf = PacketSocket.Open("pb", ns.Name);
        await using var sink = FrameSink.Start(outOf, Forward.Id, TimeProvider.System);
        var generator = new FrameGenerator(into, Forward, TimeProvider.System);

        var sent = await generator.RunAsync(framesPerSecond: 20_000, count: 2_000, TestContext.Current.CancellationToken);
        await sink.WaitForAsync(sent, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        var report = sink.Report(sent);

        Assert.Equal(2_000, sent);
        Assert.Equal(2_000, report.Received);
        Assert.Equal(0, report.Lost);
        Assert.Equal(0, report.Duplicates);
        Assert.Equal(0, report.Reordered);
        Assert.Equal(0, sink.OtherFrames);
    }

    [Fact]
    public async Task Two_streams_share_a_wire_in_opposite_directions_and_a_sink_counts_only_its_own()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        await ns.AddVethPairAsync("pa", "pb");
        using var a = PacketSocket.Open("pa", ns.Name);
        using var b = PacketSocket.Open("pb", ns.Name);
        await using var atB = FrameSink.Start(b, Forward.Id, TimeProvider.System);
        await using var atA = FrameSink.Start(a, Backward.Id, TimeProvider.System);
        using var strayOnB = PacketSocket.Open("pa", ns.Name);

        var forward = new FrameGenerator(a, Forward, TimeProvider.System).SendBurst(100, TestContext.Current.CancellationToken);
        var backward = new FrameGenerator(b, Backward, TimeProvider.System).SendBurst(50, TestContext.Current.CancellationToken);
        var stray = new FrameGenerator(strayOnB, new ProbeStream(9, ProbeFrame.EndpointAddress(9), ProbeFrame.EndpointAddress(2)), TimeProvider.System)
            .SendBurst(10, TestContext.Current.CancellationToken);
        await atB.WaitForAsync(forward, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        await atA.WaitForAsync(backward, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        await atB.WaitForQuietAsync(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);

        Assert.Equal(0, atB.Report(forward).Lost);
        Assert.Equal(0, atA.Report(backward).Lost);
        Assert.Equal(stray, atB.OtherFrames);
        Assert.Equal(0, atA.OtherFrames);
    }

    [Fact]
    public void Opening_a_socket_on_a_missing_interface_says_which()
    {
        if (Environment.UserName != "root")
        {
            Assert.Skip("AF_PACKET sockets need root");
        }

        var failure = Assert.Throws<IOException>(() => PacketSocket.Open("fy-missing0"));

        Assert.Contains("fy-missing0", failure.Message, StringComparison.Ordinal);
    }
}
