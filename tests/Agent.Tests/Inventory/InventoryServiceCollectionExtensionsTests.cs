using Ferry.Agent.Inventory;
using Ferry.Agent.Ovs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Tests.Inventory;

[Trait("Tier", "fast")]
public sealed class InventoryServiceCollectionExtensionsTests
{
    [Fact]
    public async Task The_inventory_resolves_and_reports_an_unstarted_switch_when_ovs_is_registered()
    {
        await using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Ferry:Inventory:QemuBinary"] = "/nonexistent/qemu",
                ["Ferry:Ovs:RunDirectory"] = "/run/ferry-test/ovs",
            }).Build())
            .AddLogging()
            .AddFerryOvs()
            .AddFerryInventory()
            .BuildServiceProvider();

        var inventory = await services.GetRequiredService<IHostInventory>().CollectAsync(TestContext.Current.CancellationToken);

        Assert.Equal("/nonexistent/qemu", services.GetRequiredService<IOptions<InventoryOptions>>().Value.QemuBinary);
        Assert.Null(inventory.Qemu.Version);
        Assert.NotNull(inventory.Ovs.Switch);
        Assert.False(inventory.Ovs.Switch.Running);
        Assert.Equal(services.GetRequiredService<IOvsSwitch>().Bridge, inventory.Ovs.Switch.Bridge);
    }

    [Fact]
    public async Task A_relative_hugepages_directory_is_rejected_by_validation()
    {
        await using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Ferry:Inventory:HugepagesDirectory"] = "sys/kernel/mm/hugepages",
            }).Build())
            .AddLogging()
            .AddFerryInventory()
            .BuildServiceProvider();

        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<InventoryOptions>>().Value);
    }
}
