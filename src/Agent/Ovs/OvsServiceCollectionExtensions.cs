using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Ovs;

public static class OvsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the OVS-DPDK switch (a singleton: disposing the container on agent stop stops the
    /// daemons it started) with options bound from <c>Ferry:Ovs</c> and validated on start. The switch is
    /// not started here; the agent calls <see cref="IOvsSwitch.EnsureStartedAsync"/> when it starts.
    /// </summary>
    public static IServiceCollection AddFerryOvs(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<OvsOptions>().BindConfiguration(OvsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OvsOptions>, OvsOptionsValidator>());
        services.TryAddSingleton<IOvsSwitch>(sp => new OvsSwitch(
            sp.GetRequiredService<IOptions<OvsOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<OvsSwitch>>()));
        return services;
    }
}
