using Ferry.Agent.Ovs;

namespace Ferry.Agent.Tests.Ovs;

[Trait("Tier", "fast")]
public sealed class OvsInterfaceStatusTests
{
    [Fact]
    public void A_vhost_user_ports_status_map_reads_as_keys_and_values()
    {
        var status = OvsCtl.ParseMap("{features=\"0x000000017020a782\", mode=server, num_of_vrings=\"2\", socket=\"/run/ferry-agent/ovs/vhu-f0\", status=connected}");

        Assert.Equal("connected", status["status"]);
        Assert.Equal("server", status["mode"]);
        Assert.Equal("2", status["num_of_vrings"]);
        Assert.Equal("/run/ferry-agent/ovs/vhu-f0", status["socket"]);
    }

    [Fact]
    public void An_empty_status_map_is_empty()
    {
        Assert.Empty(OvsCtl.ParseMap("{}"));
    }
}
