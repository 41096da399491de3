using Ferry.Agent.Ovs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Probe;

public static class ProbeServiceCollectionExtensions
{
    /// <summary>Registers the migrations' network probe with options bound from <c>Probe</c>, validated on start.</summary>
    public static IServiceCollection AddFerryProbe(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<ProbeOptions>().BindConfiguration(ProbeOptions.Section)
            .Validate(o => o.FabricPort.Length == 0 || OvsName.IsValid(o.FabricPort), "Probe:FabricPort must be an interface name matching [a-z0-9-]{1,15}, or empty.")
            .Validate(
                o => o.WarmupTimeout > TimeSpan.Zero && o.ResumeTimeout > TimeSpan.Zero && o.Tail >= TimeSpan.Zero && o.Drain >= TimeSpan.Zero,
                "Probe timeouts must be positive (Tail and Drain may be zero).")
            .ValidateOnStart();
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
