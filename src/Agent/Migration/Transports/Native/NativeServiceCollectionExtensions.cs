using Ferry.Agent.Migration.Transports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Ferry.Agent.Migration.Transports.Native;

public static class NativeServiceCollectionExtensions
{
    /// <summary>Registers the native transport: the dirty tracking of QEMU guests, the source runner and the engine's receivers.</summary>
    public static IServiceCollection AddFerryNativeTransport(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<NativeTransportOptions>().BindConfiguration(NativeTransportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<UserfaultfdRegistry>();
        services.TryAddSingleton<IQemuGuestTracking>(sp => new QemuGuestTracking(sp.GetRequiredService<UserfaultfdRegistry>(), sp.GetService<Ovs.IOvsSwitch>()));
        services.AddSingleton<IMigrationTransport, NativeTransport>();
        services.TryAddSingleton<INativeTargets, NativeTargets>();
        return services;
    }
}
