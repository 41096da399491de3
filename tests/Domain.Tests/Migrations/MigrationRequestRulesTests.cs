using Ferry.Domain.Guests;
using Ferry.Domain.Hosts;
using Ferry.Domain.Migrations;

namespace Ferry.Domain.Tests.Migrations;

public sealed class MigrationRequestRulesTests
{
    private static readonly Host A = Host.Create("host-a", "10.0.0.1");
    private static readonly Host B = Host.Create("host-b", "10.0.0.2");

    [Fact]
    public void The_guests_own_host_is_refused_as_target_and_named()
    {
        var guest = Guest.Define("vnf", 1024, 1, A.Id);

        Assert.Equal("is the guest's current host 'host-a'", MigrationRequestRules.ExplainTarget(guest, A));
    }

    [Fact]
    public void Another_host_is_accepted_as_target()
    {
        var guest = Guest.Define("vnf", 1024, 1, A.Id);

        Assert.Null(MigrationRequestRules.ExplainTarget(guest, B));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void A_probe_needs_two_vhost_user_ports(int ports)
    {
        var guest = Guest.Define("vnf", 1024, 1, A.Id, vhostUserPorts: Enumerable.Range(0, ports).Select(i => $"vnf-{i}"));
        var policy = MigrationPolicy.Default with { ProbeRatePps = 1000 };

        var problem = MigrationRequestRules.ExplainProbe(guest, policy);

        Assert.Equal($"needs a guest with two vhost-user ports (frames in at the first, out at the second); 'vnf' has {ports}", problem);
    }

    [Fact]
    public void A_probe_is_accepted_for_a_guest_with_two_ports_and_no_probe_for_any_guest()
    {
        var forwarder = Guest.Define("fwd", 1024, 1, A.Id, vhostUserPorts: ["fwd-0", "fwd-1"]);
        var idle = Guest.Define("idle", 1024, 1, A.Id);

        Assert.Null(MigrationRequestRules.ExplainProbe(forwarder, MigrationPolicy.Default with { ProbeRatePps = 1000 }));
        Assert.Null(MigrationRequestRules.ExplainProbe(idle, MigrationPolicy.Default));
    }
}
