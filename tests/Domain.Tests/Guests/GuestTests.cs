using Ferry.Domain.Guests;

namespace Ferry.Domain.Tests.Guests;

public sealed class GuestTests
{
    [Theory]
    [InlineData("../etc")]
    [InlineData("a,b")]
    [InlineData("UPPER")]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("nul\0")]
    public void Hostile_names_are_refused(string name) =>
        Assert.Throws<DomainException>(() => Guest.Define(name, 1024, 1, Guid.NewGuid()));

    [Fact]
    public void A_name_of_64_characters_is_refused_and_63_accepted()
    {
        Assert.Throws<DomainException>(() => Guest.Define(new string('a', 64), 1024, 1, Guid.NewGuid()));
        Assert.Equal(63, Guest.Define(new string('a', 63), 1024, 1, Guid.NewGuid()).Name.Length);
    }

    [Fact]
    public void Hostile_port_names_are_refused() =>
        Assert.Throws<DomainException>(() => Guest.Define("vnf", 1024, 1, Guid.NewGuid(), vhostUserPorts: ["ok", "bad,port"]));

    [Fact]
    public void A_migration_returns_the_guest_to_its_previous_state_on_its_final_host()
    {
        var source = Guid.NewGuid();
        var target = Guid.NewGuid();
        var guest = Guest.Define("vnf", 1024, 1, source);
        guest.Observe(GuestState.Running);
        guest.BeginMigration();
        Assert.Equal(GuestState.Migrating, guest.State);
        guest.EndMigration(target);
        Assert.Equal(GuestState.Running, guest.State);
        Assert.Equal(target, guest.HostId);
    }
}
