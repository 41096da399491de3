using Ferry.Agent.Ovs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Inventory;

public static class InventoryServiceCollectionExtensions
{
    /// <summary>
    /// Registers the host inventory with options bound from <c>Ferry:Inventory</c> and validated on start. When <c>AddFerryOvs</c>
    /// registered a switch, the inventory reports its DPDK state too.
    /// </summary>
    public static IServiceCollection AddFerryInventory(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<InventoryOptions>().BindConfiguration(InventoryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InventoryOptions>, InventoryOptionsValidator>());
        services.TryAddSingleton<IHostInventory>(sp => new LinuxHostInventory(
            sp.GetRequiredService<IOptions<InventoryOptions>>().Value,
            sp.GetService<IOvsSwitch>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<LinuxHostInventory>>()));
        return services;
    }
}
