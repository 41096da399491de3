using Ferry.Agent.Ovs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Probe;

public static class ProbeServiceCollectionExtensions
{
    /// <summary>Registers the migrations' network probe with options bound from <c>Ferry:Probe</c>, validated on start.</summary>
    public static IServiceCollection AddFerryProbe(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<ProbeOptions>().BindConfiguration(ProbeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProbeOptions>, ProbeOptionsValidator>());
        services.TryAddSingleton<INetworkProbes>(sp =>
        {
            var ns = sp.GetService<IOptions<OvsOptions>>()?.Value.NetworkNamespace;
            return new NetworkProbes(
                sp.GetService<IOvsSwitch>(),
                sp.GetRequiredService<IOptions<ProbeOptions>>().Value,
                string.IsNullOrEmpty(ns) ? null : ns,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<NetworkProbes>>());
        });
        return services;
    }
}
