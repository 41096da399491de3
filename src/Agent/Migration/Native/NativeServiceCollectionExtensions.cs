using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Ferry.Agent.Migration.Native;

public static class NativeServiceCollectionExtensions
{
    /// <summary>Registers the native transport: the tracker probe, the source runner and the engine's receivers.</summary>
    public static IServiceCollection AddFerryNativeTransport(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<INativeTrackerProbe, NativeTrackerProbe>();
        services.TryAddSingleton<INativeQemuMigration, NativeQemuMigration>();
        services.TryAddSingleton<INativeTargets, NativeTargets>();
        return services;
    }
}
