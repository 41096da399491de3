using Ferry.Domain.Hosts;

namespace Ferry.Domain.Tests.Hosts;

public sealed class HostTests
{
    [Fact]
    public void A_down_host_stays_down_through_undrain_until_it_heartbeats()
    {
        var host = Host.Create("a", "10.0.0.1");
        host.MarkDown();
        host.Undrain();
        Assert.Equal(HostState.Down, host.State);
        host.Heartbeat(DateTimeOffset.UnixEpoch);
        Assert.Equal(HostState.Ready, host.State);
    }

    [Fact]
    public void Drain_and_undrain_toggle_placement()
    {
        var host = Host.Create("a", "10.0.0.1");
        host.Drain();
        Assert.Equal(HostState.Draining, host.State);
        host.Undrain();
        Assert.Equal(HostState.Ready, host.State);
    }

    [Fact]
    public void A_host_needs_a_valid_name_and_an_address()
    {
        Assert.Throws<DomainException>(() => Host.Create("a,b", "10.0.0.1"));
        Assert.Throws<DomainException>(() => Host.Create("a", " "));
    }
}
