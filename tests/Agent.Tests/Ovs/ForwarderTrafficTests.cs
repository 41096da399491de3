using Ferry.Agent.Ovs;
using Ferry.Agent.Probe;
using Ferry.Agent.Tests.ForwardingGuest;
using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using static Ferry.Agent.Tests.Support.AgentCalls;

namespace Ferry.Agent.Tests.Ovs;

/// <summary>
/// The origin document's L2-forwarding path on one host: a probe's generator and sink on two OVS
/// internal ports of a real agent's OVS-DPDK bridge, OpenFlow rules steering the generator's frames
/// into the forwarding guest's first vhost-user NIC and what leaves its second NIC to the sink.
/// </summary>
[Collection(OvsDpdkCollection.Name)]
public sealed class ForwarderTrafficTests
{
    private const string Guest = "l2fwd";
    private const string GuestIn = "vhu-f0";
    private const string GuestOut = "vhu-f1";
    private const string Generator = "prb-gen";
    private const string Sink = "prb-sink";

    /// <summary>Far below what the guest forwards under TCG on a loaded host.</summary>
    private const double Rate = 500;
    private const int Frames = 2000;

    /// <summary>How long the sink waits after the last arrival before the missing frames count as lost.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(10);

    private static readonly ProbeStream Stream = new(1, ProbeFrame.EndpointAddress(1), ProbeFrame.EndpointAddress(2));

    [Fact]
    public async Task Frames_a_probe_sends_into_the_bridge_cross_the_forwarding_guest_and_come_back_to_the_sink()
    {
        if (Environment.UserName != "root")
        {
            Assert.Skip("OVS-DPDK, network namespaces and AF_PACKET sockets need root");
        }

        var cancellation = TestContext.Current.CancellationToken;
        var image = await ForwardingGuestImage.BuildAsync(cancellation);
        await OvsTestSwitch.ReserveHugepagesAsync();
        await using var api = await FakeControlPlane.StartAsync();
        await using var host = AgentSwitch.Create();
        var settings = new Dictionary<string, string?>(host.Settings) { ["Qemu:ForwardingGuestImage"] = Path.GetDirectoryName(image.Kernel) };
        await using var agent = await AgentTestHost.StartAsync("host-a", api.Url, settings: settings);
        var guest = new GuestSpec { Name = Guest, MemoryMib = 128, Vcpus = 1, Profile = "forwarder" };
        guest.VhostUserPorts.Add([GuestIn, GuestOut]);

        var launched = await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call(600));

        Assert.Equal("running", launched.RunState);
        var console = await agent.Qemu(Guest).ReadSerialLogAsync(cancellation);
        var said = console.Split('\n').Select(l => l.Trim()).Where(l => l.Contains("ferry-forwarder", StringComparison.Ordinal)).ToList();
        TestContext.Current.SendDiagnosticMessage($"guest console: {string.Join(" | ", said)}");
        Assert.Contains(said, l => l.StartsWith("ferry-forwarder: ready", StringComparison.Ordinal));
        var ovs = agent.Services.GetRequiredService<IOvsSwitch>();
        foreach (var port in new[] { GuestIn, GuestOut })
        {
            var status = await ovs.GetInterfaceStatusAsync(port, cancellation);
            TestContext.Current.SendDiagnosticMessage($"OVS status of {port}: {string.Join(", ", status.Select(s => $"{s.Key}={s.Value}"))}");
        }

        await ovs.AddInternalPortAsync(Generator, cancellation);
        await ovs.AddInternalPortAsync(Sink, cancellation);
        await ovs.SteerAsync(Generator, GuestIn, cancellation);
        await ovs.SteerAsync(GuestOut, Sink, cancellation);

        // What the guest sends back the other way, and anything else on the bridge, stays off the probe's ports.
        await ovs.SteerAsync(GuestIn, GuestIn, cancellation);
        using var generatorSocket = PacketSocket.Open(Generator, host.NetworkNamespace);
        using var sinkSocket = PacketSocket.Open(Sink, host.NetworkNamespace);
        await using var sink = FrameSink.Start(sinkSocket, Stream.Id, TimeProvider.System);

        var sent = await new FrameGenerator(generatorSocket, Stream, TimeProvider.System).RunAsync(Rate, Frames, cancellation);
        await sink.WaitForAsync(sent, Quiet, cancellation);

        var report = sink.Report(sent);
        TestContext.Current.SendDiagnosticMessage($"probe through OVS-DPDK → {GuestIn} → guest → {GuestOut} → OVS-DPDK: {report}");
        Assert.True(report.Received > 0, $"no frame came back through the guest: {report}");
        Assert.Equal(0, report.Duplicates);
    }

    [Fact]
    public async Task A_forwarder_on_an_agent_without_the_image_is_refused_and_leaves_nothing_behind()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var agent = await AgentTestHost.StartAsync("host-a", api.Url);
        var guest = new GuestSpec { Name = Guest, MemoryMib = 128, Vcpus = 1, Profile = "forwarder" };
        guest.VhostUserPorts.Add([GuestIn, GuestOut]);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call()));

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("Qemu:ForwardingGuestImage", refused.Status.Detail, StringComparison.Ordinal);
        Assert.False((await agent.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = Guest }, Call())).Exists);
    }

    [Fact]
    public async Task A_forwarder_without_exactly_two_ports_is_an_invalid_request()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var agent = await AgentTestHost.StartAsync("host-a", api.Url);
        var guest = new GuestSpec { Name = Guest, MemoryMib = 128, Vcpus = 1, Profile = "forwarder" };
        guest.VhostUserPorts.Add(GuestIn);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call()));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
    }
}
