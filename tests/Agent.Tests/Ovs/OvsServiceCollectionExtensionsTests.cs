using Ferry.Agent.Ovs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Tests.Ovs;

[Trait("Tier", "fast")]
public sealed class OvsServiceCollectionExtensionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings) =>
        new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddLogging()
            .AddFerryOvs()
            .BuildServiceProvider();

    [Fact]
    public async Task The_switch_resolves_with_options_bound_from_the_ovs_section()
    {
        await using var services = Build(new()
        {
            ["Ferry:Ovs:RunDirectory"] = "/run/ferry-test/ovs",
            ["Ferry:Ovs:Bridge"] = "br-test",
            ["Ferry:Ovs:PmdCpuMask"] = "0x1",
            ["Ferry:Ovs:DpdkInitTimeout"] = "00:00:30",
        });

        var ovs = services.GetRequiredService<IOvsSwitch>();
        var options = services.GetRequiredService<IOptions<OvsOptions>>().Value;

        Assert.Equal("br-test", ovs.Bridge);
        Assert.Equal("/run/ferry-test/ovs", ovs.VhostUserSocketDirectory);
        Assert.Equal("0x1", options.PmdCpuMask);
        Assert.Equal(TimeSpan.FromSeconds(30), options.DpdkInitTimeout);
        Assert.Equal("0x1", options.DpdkLcoreMask);
    }

    [Theory]
    [InlineData("Ferry:Ovs:Bridge", "br,evil")]
    [InlineData("Ferry:Ovs:Bridge", "bridge-name-too-long")]
    [InlineData("Ferry:Ovs:RunDirectory", "relative/ovs")]
    [InlineData("Ferry:Ovs:RunDirectory", "/")]
    [InlineData("Ferry:Ovs:PmdCpuMask", "2; rm")]
    [InlineData("Ferry:Ovs:DpdkSocketMem", "1024 --vdev")]
    public async Task Unsafe_or_malformed_settings_are_rejected_by_validation(string key, string value)
    {
        await using var services = Build(new() { [key] = value });

        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<OvsOptions>>().Value);
    }

    [Theory]
    [InlineData("256", "", "384")]
    [InlineData("256,0", "", "384,0")]
    [InlineData("1024,512", "", "1152,640")]
    [InlineData("256", "300", "300")]
    public void The_dpdk_socket_limit_leaves_headroom_above_the_socket_memory_unless_set(string socketMem, string socketLimit, string effective)
    {
        var options = new OvsOptions { DpdkSocketMem = socketMem, DpdkSocketLimit = socketLimit };

        Assert.Equal(effective, options.EffectiveDpdkSocketLimit);
    }
}
