using System.Net;
using Ferry.Agent.Qmp;

namespace Ferry.Agent.Tests.Qmp;

[Trait("Tier", "fast")]
public sealed class MigrationUriTests
{
    [Fact]
    public void Tcp_uris_are_built_from_an_address_and_a_port()
    {
        Assert.Equal("tcp:127.0.0.1:4444", MigrationUri.Tcp(IPAddress.Loopback, 4444).Value);
        Assert.Equal("tcp:[::1]:4444", MigrationUri.Tcp(IPAddress.IPv6Loopback, 4444).Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Ports_outside_the_tcp_range_are_refused(int port)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MigrationUri.Tcp(IPAddress.Loopback, port));
    }
}
