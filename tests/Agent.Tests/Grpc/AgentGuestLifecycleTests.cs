using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
using Grpc.Core;
using static Ferry.Agent.Tests.Support.AgentCalls;

namespace Ferry.Agent.Tests.Grpc;

/// <summary>A guest's life on one real agent host with real QEMU: what it is launched with, and that it has one QEMU at most.</summary>
public sealed class AgentGuestLifecycleTests
{
    [Fact]
    public async Task A_guest_runs_with_the_vcpus_it_asks_for_on_the_command_line_and_in_qemu()
    {
        await using var api = new FakeControlPlane();
        await using var agent = await AgentTestHost.StartAsync("host-c", api.Url);
        var spec = Idle("cpus");
        spec.Vcpus = 2;

        await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = spec }, Call());

        var qemu = agent.Qemu("cpus");
        var arguments = qemu.Arguments.ToList();
        Assert.Equal("2", arguments[arguments.IndexOf("-smp") + 1]);
        var cpus = await qemu.Qmp.ExecuteAsync("query-cpus-fast", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, cpus.GetArrayLength());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(Domain.Guests.Guest.MaxVcpus + 1)]
    public async Task A_vcpu_count_out_of_range_is_an_invalid_request(int vcpus)
    {
        await using var api = new FakeControlPlane();
        await using var agent = await AgentTestHost.StartAsync("host-c", api.Url);
        var spec = Idle("cpus");
        spec.Vcpus = vcpus;

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = spec }, Call()));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Empty(await agent.Guests.ListAsync(TestContext.Current.CancellationToken));
    }
}
