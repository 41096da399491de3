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
    /// <c>Qemu</c> and <c>Qmp</c> and validated on start.
    /// </summary>
    public static IServiceCollection AddFerryQemu(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddOptions<QemuLauncherOptions>().BindConfiguration("Qemu")
            .Validate(o => Path.IsPathRooted(o.RunDirectory) && Path.IsPathRooted(o.TmpfsDirectory) && Path.IsPathRooted(o.HugetlbfsDirectory), "Qemu directories must be absolute.")
            .Validate(o => o.ForwardingGuestImage.Length == 0 || Path.IsPathRooted(o.ForwardingGuestImage), "Qemu:ForwardingGuestImage must be absolute.")
            .Validate(o => o.ForwarderReadyTimeout > TimeSpan.Zero, "Qemu:ForwarderReadyTimeout must be positive.")
            .Validate(o => o.RunDirectory.Length < 60, "Qemu:RunDirectory must be short: UNIX socket paths are limited to 108 bytes.")
            .Validate(o => !o.RequireRunAs || o.RunAs.Length > 0, "Qemu:RequireRunAs needs Qemu:RunAs.")
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QemuLauncherOptions>, QemuRunAsValidation>());
        services.AddOptions<QmpClientOptions>().BindConfiguration("Qmp")
            .Validate(o => o.CommandTimeout > TimeSpan.Zero && o.ConnectTimeout > TimeSpan.Zero && o.MaxMessageBytes >= 4096, "Qmp limits must be positive.")
            .ValidateOnStart();
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
