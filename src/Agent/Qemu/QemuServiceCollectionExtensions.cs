using Ferry.Agent.Migration;
using Ferry.Agent.Qmp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ferry.Agent.Migration.Transports;
using Ferry.Agent.Migration.Transports.Qemu;
using Ferry.ServiceDefaults.Trust;

namespace Ferry.Agent.Qemu;

public static class QemuServiceCollectionExtensions
{
    /// <summary>
    /// Registers the QMP connector, the QEMU launcher (a singleton: disposing the container on agent
    /// stop kills every guest it started) and the qemu transport, with options bound from
    /// <c>Ferry:Qemu</c> and <c>Ferry:Qmp</c> and validated on start.
    /// </summary>
    public static IServiceCollection AddFerryQemu(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddOptions<QemuLauncherOptions>().BindConfiguration(QemuLauncherOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QemuLauncherOptions>, QemuLauncherOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QemuLauncherOptions>, QemuRunAsValidation>());
        services.AddOptions<QmpClientOptions>().BindConfiguration(QmpClientOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QmpClientOptions>, QmpClientOptionsValidator>());
        services.TryAddSingleton<IQmpConnector>(sp => new QmpConnector(
            sp.GetRequiredService<IOptions<QmpClientOptions>>().Value, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton<IQemuLauncher>(sp => new QemuLauncher(
            sp.GetRequiredService<IOptions<QemuLauncherOptions>>().Value,
            sp.GetRequiredService<IQmpConnector>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton<QemuMigrationMetrics>();
        services.TryAddSingleton<IQemuMigration, QemuMigration>();

        // The agent validates Ferry:Tls on start (AgentServiceTls); here it is only read.
        services.AddOptions<ClusterTlsOptions>().BindConfiguration(ClusterTlsOptions.Section);
        services.TryAddSingleton<IQemuTlsCredentials>(sp => new QemuTlsCredentials(
            sp.GetRequiredService<IOptions<ClusterTlsOptions>>().Value,
            sp.GetRequiredService<IOptions<QemuLauncherOptions>>().Value,
            sp.GetService<ClusterTrust>(),
            sp.GetRequiredService<ILogger<QemuTlsCredentials>>()));
        services.AddSingleton<IMigrationTransport, QemuTransport>();
        return services;
    }
}
